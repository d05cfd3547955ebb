/**
 * Declarative automation conditions: per asset, when the automation workflow should request it. A condition is
 * plain data (it is also its snapshot form), built with the `automation` helpers and combined with `and`, `or`
 * and `not`. The automation workflow evaluates them over the catalog; see `automation-eval.ts`.
 */
import { z } from 'zod';
import { cronProblem, timezoneProblem } from './freshness';

/** How many of a time-partitioned asset's latest windows a condition looks at (default 1: the latest). */
export interface WindowOption {
  lastWindows?: number;
}

export type AutomationCondition =
  | { type: 'manual' }
  | { type: 'onCron'; cron: string; timezone: string; withDeps: boolean }
  | { type: 'onUpstreamChange'; lastWindows?: number }
  | { type: 'onMissing'; lastWindows?: number }
  | { type: 'and'; conditions: AutomationCondition[] }
  | { type: 'or'; conditions: AutomationCondition[] }
  | { type: 'not'; condition: AutomationCondition };

const MAX_WINDOWS = 100;

export const AutomationConditionSchema: z.ZodType<AutomationCondition> = z.lazy(() =>
  z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('manual') }),
    z.strictObject({ type: z.literal('onCron'), cron: z.string(), timezone: z.string(), withDeps: z.boolean() }),
    z.strictObject({ type: z.literal('onUpstreamChange'), lastWindows: z.number().int().min(1).max(MAX_WINDOWS).optional() }),
    z.strictObject({ type: z.literal('onMissing'), lastWindows: z.number().int().min(1).max(MAX_WINDOWS).optional() }),
    z.strictObject({ type: z.literal('and'), conditions: z.array(AutomationConditionSchema).min(1) }),
    z.strictObject({ type: z.literal('or'), conditions: z.array(AutomationConditionSchema).min(1) }),
    z.strictObject({ type: z.literal('not'), condition: AutomationConditionSchema }),
  ]),
);

/**
 * The condition builders.
 * @example
 * asset({ key: 'marts/revenue', deps: [orders], automation: automation.onUpstreamChange(), ... })
 * automation.onCron('0 6 * * *', { timezone: 'Europe/Berlin', withDeps: true })
 * automation.or(automation.onMissing(), automation.onUpstreamChange())
 */
export const automation = {
  /** Never requested by automation: only runs, schedules and sensors start it. The default. */
  manual: (): AutomationCondition => ({ type: 'manual' }),
  /**
   * Once per cron tick. `withDeps: false` requests it at each tick whatever its deps (Dagster's
   * `on_cron_no_deps`); `withDeps: true` (the default) waits after the tick until every dep has updated since
   * it (Dagster's `on_cron`). A 6-field cron has seconds first.
   */
  onCron: (cron: string, opts: { timezone?: string; withDeps?: boolean } = {}): AutomationCondition => ({
    type: 'onCron', cron, timezone: opts.timezone ?? 'UTC', withDeps: opts.withDeps ?? true,
  }),
  /**
   * When any dep has updated since this asset last ran (or was last requested), and no dep is missing or in
   * progress. A chain of such assets goes into one run.
   */
  onUpstreamChange: (opts: WindowOption = {}): AutomationCondition => ({ type: 'onUpstreamChange', ...(opts.lastWindows !== undefined ? { lastWindows: opts.lastWindows } : {}) }),
  /** When it has never been materialized (and never requested), once no dep is missing or in progress. */
  onMissing: (opts: WindowOption = {}): AutomationCondition => ({ type: 'onMissing', ...(opts.lastWindows !== undefined ? { lastWindows: opts.lastWindows } : {}) }),
  and: (...conditions: AutomationCondition[]): AutomationCondition => ({ type: 'and', conditions }),
  or: (...conditions: AutomationCondition[]): AutomationCondition => ({ type: 'or', conditions }),
  not: (condition: AutomationCondition): AutomationCondition => ({ type: 'not', condition }),
};

/** Every problem of a declared condition, each naming the asset and the place in the condition. */
export function automationProblemsOf(input: unknown, assetKey: string): string[] {
  const at = `asset '${assetKey}': automation`;
  const parsed = AutomationConditionSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.length ? `.${issue.path.join('.')}` : '';
    return [`${at}${path}: ${issue?.message ?? 'invalid'}; build conditions with automation.onCron(...), automation.onUpstreamChange(), automation.onMissing(), automation.and/or/not`];
  }
  const problems: string[] = [];
  const walk = (c: AutomationCondition, path: string): void => {
    switch (c.type) {
      case 'onCron': {
        const tz = timezoneProblem(c.timezone);
        if (tz) problems.push(`${at}${path}.timezone ${tz}`);
        else {
          const cron = cronProblem(c.cron, c.timezone);
          if (cron) problems.push(`${at}${path}.cron ${cron}`);
        }
        return;
      }
      case 'and':
      case 'or':
        c.conditions.forEach((x, i) => walk(x, `${path}.${c.type}[${i}]`));
        return;
      case 'not':
        walk(c.condition, `${path}.not`);
        return;
      default:
        return;
    }
  };
  walk(parsed.data, '');
  return problems;
}

/** Whether the condition can ever request anything (a bare `manual()` cannot). */
export function isAutomated(c: AutomationCondition | undefined): c is AutomationCondition {
  return c !== undefined && c.type !== 'manual';
}

/** The number of latest windows the condition looks at: the largest `lastWindows` in it, default 1. */
export function windowsOf(c: AutomationCondition): number {
  switch (c.type) {
    case 'onUpstreamChange':
    case 'onMissing':
      return c.lastWindows ?? 1;
    case 'and':
    case 'or':
      return Math.max(1, ...c.conditions.map(windowsOf));
    case 'not':
      return windowsOf(c.condition);
    default:
      return 1;
  }
}

/** The condition in words, for `cairn automation list` and explanations. */
export function describeCondition(c: AutomationCondition): string {
  switch (c.type) {
    case 'manual':
      return 'manual';
    case 'onCron':
      return `onCron('${c.cron}'${c.timezone !== 'UTC' ? `, ${c.timezone}` : ''}${c.withDeps ? ', with deps' : ', no deps'})`;
    case 'onUpstreamChange':
    case 'onMissing':
      return `${c.type}()${c.lastWindows && c.lastWindows > 1 ? ` over ${c.lastWindows} windows` : ''}`;
    case 'and':
    case 'or':
      return c.conditions.map((x) => (x.type === 'and' || x.type === 'or' ? `(${describeCondition(x)})` : describeCondition(x))).join(` ${c.type} `);
    case 'not':
      return `not ${describeCondition(c.condition)}`;
  }
}
