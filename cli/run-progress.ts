import { displayMetadataValue, type Metadata } from '../definitions/metadata';
import logUpdate from 'log-update';
import pc from 'picocolors';
import type { RunSummary } from '../activities/types';
import type { LiveStep, RunStatusView } from '../workflows/messages';

const ICON: Record<LiveStep['status'], string> = {
  pending: pc.dim('·'),
  running: pc.cyan('◌'),
  materialized: pc.green('✔'),
  failed: pc.red('✖'),
  skipped: pc.yellow('↷'),
};

function line(step: LiveStep, width: number): string {
  const err = step.error ? pc.dim(`  ${step.error.split('\n')[0]?.slice(0, 120)}`) : '';
  return `${ICON[step.status]} ${step.key.padEnd(width)}  ${step.status}${err}`;
}

/** Live per-asset progress: redraws in place on a terminal, prints one line per finished step otherwise. */
export class RunProgress {
  private readonly printed = new Set<string>();
  private readonly tty: boolean;

  constructor(private readonly out: NodeJS.WriteStream = process.stdout) {
    this.tty = !!out.isTTY && process.env.CI !== 'true';
  }

  update(view: RunStatusView): void {
    const width = Math.max(0, ...view.steps.map((s) => s.key.length));
    if (this.tty) {
      const done = view.steps.filter((s) => s.status !== 'pending' && s.status !== 'running').length;
      const lines = view.steps.length > 40 ? view.steps.filter((s) => s.status === 'running' || s.status === 'failed') : view.steps;
      logUpdate([`${pc.bold(view.phase)} ${done}/${view.steps.length} steps`, ...lines.map((s) => line(s, width))].join('\n'));
      return;
    }
    for (const s of view.steps) {
      if ((s.status === 'materialized' || s.status === 'failed' || s.status === 'skipped') && !this.printed.has(s.key)) {
        this.printed.add(s.key);
        this.out.write(`${line(s, width)}\n`);
      }
    }
  }

  finish(summary: RunSummary): void {
    this.update({ runId: summary.runId, selection: '', phase: 'finished', steps: summary.assets });
    if (this.tty) logUpdate.done();
  }
}

export function printSummary(summary: RunSummary & { assets: { metadata?: Metadata }[] }, uiLink: string, out: NodeJS.WritableStream = process.stdout): void {
  const counts = { materialized: 0, failed: 0, skipped: 0 };
  for (const a of summary.assets) counts[a.status]++;
  const width = Math.max(0, ...summary.assets.map((a) => a.key.length));
  out.write(`\n${pc.bold('asset'.padEnd(width))}  ${pc.bold('status'.padEnd(12))}  ${pc.bold('details')}\n`);
  for (const a of summary.assets) {
    const md = a.metadata ?? {};
    const rows = Object.values(md).find((v) => v.type === 'row_count');
    const firstText = md.relation_name ?? Object.values(md).find((v) => v.type === 'text');
    const table = md.table?.type === 'text' ? md.table.value : md.relation_name?.type === 'text' ? md.relation_name.value : undefined;
    const details = a.error
      ? a.error.split('\n')[0]
      : a.failedCheck
        ? pc.red(`blocking check failed: ${a.failedCheck}`)
        : summary.checksOnly
          ? 'checks evaluated (cairn checks)'
          : rows
          ? [`${String(rows.value)} rows`, table].filter(Boolean).join(', ')
          : firstText ? displayMetadataValue(firstText).slice(0, 100) : '';
    const color = a.status === 'materialized' ? pc.green : a.status === 'failed' ? pc.red : pc.yellow;
    const label = summary.checksOnly && a.status === 'materialized' ? 'checked' : a.status;
    out.write(`${a.key.padEnd(width)}  ${color(label.padEnd(12))}  ${details ?? ''}\n`);
  }
  const verdict = summary.status === 'succeeded' ? pc.green('succeeded') : summary.status === 'failed' ? pc.red('failed') : pc.yellow(summary.status);
  out.write(`\nrun ${summary.runId} ${verdict}: ${counts.materialized} ${summary.checksOnly ? 'checked' : 'materialized'}, ${counts.failed} failed, ${counts.skipped} skipped\n`);
  out.write(`Temporal UI: ${uiLink}\n`);
}

export function runLink(uiUrl: string, namespace: string, workflowId: string, runId: string): string {
  return `${uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}/${encodeURIComponent(runId)}/history`;
}
