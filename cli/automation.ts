/**
 * `cairn automation list|status|start|stop|why`: the automation workflow (`cairn/automation`) and what it
 * decided. `why <key>` reads the recorded evaluations from the catalog, so it works while Temporal is down.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Command } from 'commander';
import pc from 'picocolors';
import { AUTOMATION_ENABLED, AUTOMATION_WORKFLOW_ID, hasAutomation, wakeAutomation } from '../activities/automation-activities';
import type { StoredAutomationEvaluation } from '../activities/catalog/catalog-store';
import { describeCondition, isAutomated } from '../definitions/automation';
import { graphFromSnapshots } from '../definitions/plan';
import type { LocationSnapshot } from '../definitions/snapshot';
import { automationStatusQuery, stopAutomationSignal, type AutomationView } from '../workflows/messages';
import { loadValidWorkspace, settingsOnly, withCatalog, workspaceSnapshots, type GlobalOptions } from './context';
import { CliExit, Exit } from './errors';
import { withTemporal } from './schedules';

/** One row of `cairn automation list --json`. */
export interface AutomationRow {
  key: string;
  codeLocation: string;
  condition: string;
  partitioned: boolean;
}

export function automationRows(snapshots: readonly LocationSnapshot[]): AutomationRow[] {
  return snapshots
    .flatMap((s) => s.assets.filter((a) => isAutomated(a.automation)).map((a) => ({ key: a.key, codeLocation: s.name, condition: describeCondition(a.automation!), partitioned: a.partitions !== undefined })))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** The automation workflow's state, or undefined when it is not running. */
async function liveView(client: Client): Promise<AutomationView | undefined> {
  const handle = client.workflow.getHandle(AUTOMATION_WORKFLOW_ID);
  try {
    const d = await handle.describe();
    if (d.status.name !== 'RUNNING') return undefined;
    return await handle.query(automationStatusQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

function printWhy(key: string, rows: readonly StoredAutomationEvaluation[], out: NodeJS.WritableStream): void {
  for (const r of rows) {
    const mark = r.requested ? pc.green('REQUESTED') : pc.dim('not requested');
    out.write(`${r.at}  ${mark}${r.partition !== null ? `  [${r.partition}]` : ''}  ${r.reason}${r.runWorkflowId ? `  → ${r.runWorkflowId}` : ''}  (${r.evaluationId})\n`);
  }
  if (rows.length === 0) out.write(`no evaluation of '${key}' recorded yet: the automation workflow evaluates it at its next wake (\`cairn automation status\`)\n`);
}

export function registerAutomation(program: Command, globals: () => GlobalOptions): void {
  const cmd = program.command('automation').description('declarative automation: the cairn/automation workflow and why it did (or did not) request an asset');

  cmd
    .command('list')
    .description('the assets with an automation condition, and their conditions')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      // From the workspace's code, so it works before any worker has published.
      const rows = automationRows(workspaceSnapshots(await loadValidWorkspace(globals())));
      if (opts.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      else if (rows.length === 0) process.stdout.write('no asset has an automation condition (every asset is manual); add automation: automation.onUpstreamChange() to one\n');
      else for (const r of rows) process.stdout.write(`${r.key}  ${pc.dim(r.codeLocation)}  ${r.condition}${r.partitioned ? pc.dim('  (latest window)') : ''}\n`);
    });

  cmd
    .command('status')
    .description('whether automation is on, and its recent wakes')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const settings = settingsOnly(globals());
      const enabled = (await withCatalog(settings, (c) => c.getSetting(AUTOMATION_ENABLED))) !== 'false';
      const view = await withTemporal(settings, liveView);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ enabled, running: view !== undefined, ...(view ? { view } : {}) }, null, 2)}\n`);
        return;
      }
      process.stdout.write(`automation is ${enabled ? pc.green('on') : pc.yellow('off (cairn automation stop)')}; workflow ${AUTOMATION_WORKFLOW_ID} ${view ? 'running' : 'not running'}\n`);
      if (!view) return;
      process.stdout.write(`active since ${view.activeSince}, ${view.evaluations} evaluations${view.nextWakeAt ? `, next cron wake ${view.nextWakeAt}` : ''}\n`);
      for (const t of [...view.ticks].reverse().slice(0, 10)) {
        process.stdout.write(`  ${t.at}  ${t.evaluated} evaluated, ${t.requested} requested, ${t.runs.length} runs, ${t.durationMs} ms  ${pc.dim(t.sources.join(','))}${t.error ? `  ${pc.red(t.error)}` : ''}\n`);
        for (const p of t.problems) process.stdout.write(`    ${pc.yellow(p)}\n`);
      }
    });

  cmd
    .command('start')
    .description('turn automation on: start the cairn/automation workflow (it evaluates at once)')
    .action(async () => {
      const settings = settingsOnly(globals());
      await withCatalog(settings, async (catalog) => {
        if (!hasAutomation(await catalog.getSnapshots())) {
          throw new CliExit(Exit.badInput, 'no published asset has an automation condition: declare one (automation: automation.onUpstreamChange()) and start the workers (`cairn dev`)');
        }
        await catalog.setSetting(AUTOMATION_ENABLED, undefined);
        await withTemporal(settings, (client) => wakeAutomation(client, catalog, { keys: [], source: 'cli' }));
      });
      process.stdout.write(`automation on: ${AUTOMATION_WORKFLOW_ID} is running\n`);
    });

  cmd
    .command('stop')
    .description('turn automation off: runs and reports no longer wake it, and its workflow ends')
    .action(async () => {
      const settings = settingsOnly(globals());
      await withCatalog(settings, (c) => c.setSetting(AUTOMATION_ENABLED, 'false'));
      const stopped = await withTemporal(settings, async (client) => {
        const handle = client.workflow.getHandle(AUTOMATION_WORKFLOW_ID);
        try {
          await handle.signal(stopAutomationSignal);
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) return false;
          throw err;
        }
        // It ends after its current evaluation; one that does not end in time is terminated.
        const ended = await Promise.race([handle.result().then(() => true, () => true), new Promise<false>((r) => setTimeout(() => r(false), 15_000))]);
        if (!ended) await handle.terminate('cairn automation stop: the workflow did not end within 15 s');
        return true;
      });
      process.stdout.write(`automation off${stopped ? `: ${AUTOMATION_WORKFLOW_ID} ended` : ' (its workflow was not running)'}; \`cairn automation start\` turns it on again\n`);
    });

  cmd
    .command('why <key>')
    .description('the recent automation decisions about an asset, newest first, each with its reason')
    .option('--partition <key>', 'only the evaluations of this partition')
    .option('--limit <n>', 'how many evaluations', '10')
    .option('--json', 'print JSON')
    .action(async (key: string, opts: { partition?: string; limit: string; json?: boolean }) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new CliExit(Exit.badInput, `--limit must be a whole number from 1 to 1000, got '${opts.limit}'`);
      const settings = settingsOnly(globals());
      const rows = await withCatalog(settings, async (catalog) => {
        const snapshots = await catalog.getSnapshots();
        const graph = graphFromSnapshots(snapshots);
        if (!graph.has(key)) {
          const close = graph.closestKey(key);
          throw new CliExit(Exit.badInput, `unknown asset '${key}'${close ? `; did you mean '${close}'?` : ''}`);
        }
        const node = snapshots.flatMap((s) => s.assets).find((a) => a.key === key && !a.placeholder);
        if (!isAutomated(node?.automation)) {
          throw new CliExit(Exit.badInput, `asset '${key}' is manual: automation never requests it (declare automation: automation.onUpstreamChange(), onCron(...) or onMissing() on it)`);
        }
        return catalog.automationEvaluations(key, { ...(opts.partition !== undefined ? { partition: opts.partition } : {}), limit });
      });
      if (opts.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      else printWhy(key, rows, process.stdout);
    });
}
