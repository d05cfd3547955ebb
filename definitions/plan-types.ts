/**
 * The plan as data: what the run workflow walks. Kept apart from the planner so that workflow code imports
 * only this file (no selection parser, validation or freshness code in the workflow bundle).
 */
import type { RetryPolicy } from './snapshot';

/** One step of a run: materialize one asset on its code location's task queue. Plain data. */
export interface PlanStep {
  key: string;
  location: string;
  taskQueue: string;
  /** Indices (into `RunPlan.steps`) of the steps that must finish first. */
  deps: number[];
  retry: RetryPolicy;
  /** The multi-asset (dbt project) that produces the asset. */
  multi?: string;
  /** Index into `RunPlan.groups`: the step runs as part of that group's single activity. */
  group?: number;
}

/**
 * Steps of one multi-asset that run as one activity (one `dbt build`). A multi-asset whose steps have a
 * non-member between them (dbt model -> TypeScript asset -> dbt model) gets one group per stage.
 */
export interface PlanGroup {
  /** The activity id: the multi-asset's name, with `#<stage>` from the second stage on. */
  id: string;
  multi: string;
  location: string;
  taskQueue: string;
  /** Indices of the member steps, in plan order. */
  steps: number[];
  retry: RetryPolicy;
}

/** What a run executes, in a stable topological order. Round-trips through JSON (it is a workflow payload). */
export interface RunPlan {
  selection: string;
  steps: PlanStep[];
  /** Selected assets that are external: tracked, never run. */
  external: string[];
  groups?: PlanGroup[];
}

/** Task queue of a code location's worker. */
export function locationTaskQueue(location: string): string {
  return `cairn-loc-${location}`;
}

/** The orchestrator's task queue: run workflows and catalog/plan activities. */
export const ORCHESTRATOR_TASK_QUEUE = 'cairn';

export function planChildren(plan: RunPlan): number[][] {
  const children: number[][] = plan.steps.map(() => []);
  plan.steps.forEach((s, i) => s.deps.forEach((d) => children[d]?.push(i)));
  return children;
}

/** How a run's partitions read in ids and records: the key, or `<first>...<last>` for a range. */
export function partitionLabel(keys: readonly string[]): string {
  return keys.length === 1 ? keys[0]! : `${keys[0]}...${keys.at(-1)}`;
}
