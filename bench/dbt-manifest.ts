/**
 * `npm run bench -- dbt-manifest`: from a dbt manifest to a plannable graph, for generated projects of 1,000 and
 * 5,000 models (test/support/dbt-manifest.ts: sources → staging → intermediate, some ephemeral → marts, about
 * two generic tests per model). Pure, no dbt, no Temporal. Each phase is the median of 5 runs after a warm-up:
 *  1. JSON.parse of the serialized manifest (what loading target/manifest.json costs beyond reading the file);
 *  2. parseDbtManifest (the zod schema);
 *  3. translateDbtManifest (assets, placeholders, checks);
 *  4. locationSnapshot of a code location holding the multi-asset;
 *  5. planRun('*') over that snapshot (one group for the whole project).
 * The target (from the issue) is under 1 s for 1,000 models, where Dagster's `dagster dev` timed out at 180 s.
 */
import { DEFAULT_RETRY } from '../definitions/asset';
import { codeLocation } from '../definitions/code-location';
import { parseDbtManifest, translateDbtManifest, type DbtManifest, type DbtProjectGraph } from '../definitions/dbt/manifest';
import type { MultiAssetDefinition } from '../definitions/multi-asset';
import { planRun, type RunPlan } from '../definitions/plan';
import type { LocationSnapshot } from '../definitions/snapshot';
import { locationSnapshot } from '../definitions/to-snapshot';
import { generateManifest } from '../test/support/dbt-manifest';
import { median } from './stats';

const SIZES = [1_000, 5_000];
const RUNS = 5;
const TARGET_MS = 1_000;
const TARGET_MODELS = 1_000;
/** `dagster dev` timed out loading a 1,000-model project (reported in the issue). */
const DAGSTER_TIMEOUT_S = 180;
const MANIFEST_PATH = 'bench/target/manifest.json';
const NAME = 'dbt:jaffle';


interface Phases {
  jsonParse: number;
  parse: number;
  translate: number;
  snapshot: number;
  plan: number;
  total: number;
}

interface Outcome {
  graph: DbtProjectGraph;
  snapshot: LocationSnapshot;
  plan: RunPlan;
}

function multiAsset(graph: DbtProjectGraph): MultiAssetDefinition {
  return {
    kind: 'multi-asset', name: NAME, assets: graph.assets, checks: graph.checks, retry: { ...DEFAULT_RETRY, maxAttempts: 1 }, resources: [],
    execute: () => Promise.reject(new Error('the bench never runs dbt')),
  };
}

/** One pass from the manifest's text to a plan, timing each phase. */
function once(text: string): { ms: Phases; out: Outcome } {
  const t0 = performance.now();
  const raw = JSON.parse(text) as unknown;
  const t1 = performance.now();
  const manifest: DbtManifest = parseDbtManifest(raw, MANIFEST_PATH);
  const t2 = performance.now();
  const graph = translateDbtManifest(manifest, { name: NAME, manifestPath: MANIFEST_PATH });
  const t3 = performance.now();
  const snapshot = locationSnapshot(codeLocation({ name: 'warehouse', assets: [multiAsset(graph)] }));
  const t4 = performance.now();
  const plan = planRun([snapshot], '*');
  const t5 = performance.now();
  return { ms: { jsonParse: t1 - t0, parse: t2 - t1, translate: t3 - t2, snapshot: t4 - t3, plan: t5 - t4, total: t5 - t0 }, out: { graph, snapshot, plan } };
}

function measure(models: number): void {
  const generated = generateManifest({ models, seed: 1 });
  const text = JSON.stringify(generated);
  const { layers } = generated;
  const warm = once(text);
  const built = models - layers.ephemeral.length + layers.seeds.length;
  // The run is one group of every built model and seed; the sources are external.
  if (warm.out.plan.steps.length !== built || warm.out.plan.groups?.length !== 1 || warm.out.plan.external.length !== layers.sources.length) {
    throw new Error(`unexpected plan: ${warm.out.plan.steps.length} steps (expected ${built}), ${warm.out.plan.groups?.length ?? 0} groups, ${warm.out.plan.external.length} external`);
  }
  const runs: Phases[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(once(text).ms);
  const m = (k: keyof Phases): number => median(runs.map((r) => r[k]));
  const ms = (x: number): string => `${x.toFixed(1).padStart(7)} ms`;
  const nodes = Object.keys(generated.nodes).length;
  console.log(
    `${models} models (${layers.ephemeral.length} ephemeral), ${layers.seeds.length} seeds, ${layers.sources.length} sources, ` +
      `${layers.genericTests.length + layers.singularTests.length} tests: ${nodes} nodes, ${(text.length / 1e6).toFixed(1)} MB of JSON; ` +
      `${warm.out.graph.assets.length} assets, ${warm.out.graph.checks.length} checks, ${warm.out.plan.steps.length} steps in ${warm.out.plan.groups?.length ?? 0} group`,
  );
  console.log(`  JSON.parse             ${ms(m('jsonParse'))}`);
  console.log(`  parseDbtManifest       ${ms(m('parse'))}`);
  console.log(`  translateDbtManifest   ${ms(m('translate'))}`);
  console.log(`  locationSnapshot       ${ms(m('snapshot'))}`);
  console.log(`  planRun('*')           ${ms(m('plan'))}`);
  const total = m('total');
  const verdict = models <= TARGET_MODELS ? ` (${total < TARGET_MS ? 'under' : 'OVER'} the ${TARGET_MS} ms target for ${TARGET_MODELS} models; \`dagster dev\` timed out at ${DAGSTER_TIMEOUT_S} s on a ${TARGET_MODELS}-model project)` : '';
  console.log(`  manifest → plannable graph ${total.toFixed(0)} ms, median of ${RUNS} after a warm-up${verdict}; runs ${runs.map((r) => r.total.toFixed(0)).join(', ')} ms`);
}

export async function dbtManifest(): Promise<void> {
  for (const models of SIZES) measure(models);
}
