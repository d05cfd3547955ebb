import * as wf from '@temporalio/workflow';

/** The failure at the bottom of activity and child-workflow wrappers: what the user's code or the planner threw. */
function rootCause(err: unknown): unknown {
  let e: unknown = err;
  while ((e instanceof wf.ActivityFailure || e instanceof wf.ChildWorkflowFailure) && e.cause) e = e.cause;
  return e;
}

export function failureMessage(err: unknown): string {
  const e = rootCause(err);
  return e instanceof Error ? e.message : String(e);
}

/** The ApplicationFailure type of the root cause (`INVALID_PARTITION`, ...), when it has one. */
export function failureType(err: unknown): string | undefined {
  const e = rootCause(err);
  return e instanceof wf.ApplicationFailure ? (e.type ?? undefined) : undefined;
}
