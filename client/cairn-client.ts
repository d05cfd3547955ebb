import { randomBytes } from 'node:crypto';
import { Client, Connection, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { RunSummary } from '../activities/types';
import { ORCHESTRATOR_TASK_QUEUE } from '../definitions/snapshot';
import { cairnDataConverter } from './encryption';
import { backfillProgressQuery, runStatusQuery, type BackfillProgress, type RunStatusView } from '../workflows/messages';
import type { MaterializeAssetsInput } from '../workflows/materialize-assets';
import type { BackfillInput, BackfillSummary } from '../workflows/backfill';

export type { BackfillInput, BackfillProgress, BackfillSummary, MaterializeAssetsInput, RunStatusView };

export function newBackfillId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  return `cairn-backfill-${stamp}-${randomBytes(3).toString('hex')}`;
}

/** A run's handle plus the ids a user needs to find it in the Temporal UI. */
export interface RunHandle {
  workflowId: string;
  runId: string;
  handle: WorkflowHandle;
}

export function newRunWorkflowId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  return `cairn-run-${stamp}-${randomBytes(3).toString('hex')}`;
}

/** A typed wrapper over @temporalio/client for starting, watching and reading runs. */
export class CairnClient {
  private constructor(
    readonly client: Client,
    private readonly connection: Connection,
    readonly taskQueue: string,
  ) {}

  /** Payloads are encrypted when CAIRN_ENCRYPTION_KEY is set (a malformed key fails here, before connecting). */
  static async connect(opts: { address: string; namespace: string; taskQueue?: string }): Promise<CairnClient> {
    const dataConverter = cairnDataConverter();
    const connection = await Connection.connect({ address: opts.address, connectTimeout: 3000 });
    return new CairnClient(new Client({ connection, namespace: opts.namespace, dataConverter }), connection, opts.taskQueue ?? ORCHESTRATOR_TASK_QUEUE);
  }

  /** Starts a run; `trigger` defaults to `sdk`. */
  async startRun(input: MaterializeAssetsInput, opts: { workflowId?: string } = {}): Promise<RunHandle> {
    const workflowId = opts.workflowId ?? newRunWorkflowId();
    const args: MaterializeAssetsInput = { ...input, trigger: input.trigger ?? 'sdk' };
    const handle = await this.client.workflow.start('materializeAssets', { taskQueue: this.taskQueue, workflowId, args: [args] });
    return { workflowId, runId: handle.firstExecutionRunId, handle };
  }

  /**
   * Re-executes a finished run: `from-failure` runs only its failed and skipped steps (upstream values are read
   * from storage), `all` its whole selection. The new run is linked to the original in the catalog.
   */
  async reexecute(runId: string, mode: 'from-failure' | 'all', opts: { workflowId?: string; trigger?: string } = {}): Promise<RunHandle> {
    return this.startRun({ reexecute: { runId, mode }, trigger: opts.trigger ?? 'reexecution' }, opts);
  }

  async status(handle: WorkflowHandle): Promise<RunStatusView | undefined> {
    try {
      return await handle.query(runStatusQuery);
    } catch {
      return undefined;
    }
  }

  /** Waits for the run and returns its summary whether it succeeded, failed or was canceled. */
  async result(run: RunHandle): Promise<RunSummary> {
    try {
      return (await run.handle.result()) as RunSummary;
    } catch (err) {
      if (err instanceof WorkflowFailedError) {
        const cause = err.cause;
        if (cause instanceof ApplicationFailure && cause.type === 'RUN_FAILED' && cause.details?.[0]) return cause.details[0] as RunSummary;
        if (cause instanceof CancelledFailure) {
          const view = await this.status(run.handle);
          return {
            runId: run.runId,
            workflowId: run.workflowId,
            status: 'canceled',
            assets: (view?.steps ?? []).map((s) => ({ key: s.key, status: s.status === 'materialized' || s.status === 'failed' ? s.status : 'skipped', ...(s.error ? { error: s.error } : {}) })),
          };
        }
        throw new RunStartError(cause?.message ?? err.message, cause instanceof ApplicationFailure ? (cause.type ?? undefined) : undefined);
      }
      throw err;
    }
  }

  /**
   * Starts a backfill workflow (id `backfillId`, generated when absent). Its child runs have ids
   * `<backfill id>/<partition or range>`.
   */
  async startBackfill(input: Omit<BackfillInput, 'resume'>, opts: { backfillId?: string } = {}): Promise<{ backfillId: string; handle: WorkflowHandle }> {
    const backfillId = opts.backfillId ?? newBackfillId();
    const handle = await this.client.workflow.start('backfill', { taskQueue: this.taskQueue, workflowId: backfillId, args: [input] });
    return { backfillId, handle };
  }

  /** Live progress of a backfill (also of a finished one, while Temporal keeps its history). */
  async backfillProgress(backfillId: string): Promise<BackfillProgress> {
    return await this.client.workflow.getHandle(backfillId).query(backfillProgressQuery);
  }

  /** Requests cancellation: running child runs are canceled, nothing more starts. */
  async cancelBackfill(backfillId: string): Promise<void> {
    await this.client.workflow.getHandle(backfillId).cancel();
  }

  /** Waits for a backfill (across continue-as-new) and returns its summary; a canceled one reports its progress. */
  async backfillResult(backfillId: string): Promise<BackfillSummary> {
    const handle = this.client.workflow.getHandle(backfillId);
    try {
      return (await handle.result()) as BackfillSummary;
    } catch (err) {
      if (err instanceof WorkflowFailedError) {
        const cause = err.cause;
        if (cause instanceof ApplicationFailure && cause.type === 'BACKFILL_FAILED' && cause.details?.[0]) return cause.details[0] as BackfillSummary;
        if (cause instanceof CancelledFailure) {
          const p = await this.backfillProgress(backfillId);
          return { backfillId, status: 'canceled', total: p.total, counts: p.counts, failed: p.failed.map((f) => ({ label: f.label, error: f.error })), skipped: p.skipped };
        }
        throw new RunStartError(cause?.message ?? err.message, cause instanceof ApplicationFailure ? (cause.type ?? undefined) : undefined);
      }
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.connection.close();
  }
}

/** The run failed before it ran any step (bad selection, no definitions published). */
export class RunStartError extends Error {
  override readonly name = 'RunStartError';
  constructor(
    message: string,
    readonly type?: string,
  ) {
    super(message);
  }
}
