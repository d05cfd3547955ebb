// `npm run bench -- <name>...` (or `BENCH_ONLY=<name>[,<name>] npm run bench`): benchmarks print figures measured
// in one run; BENCHMARKS.md records them. With no name, every benchmark runs.
import { automationBench } from './automation';
import { backfill } from './backfill';
import { catalog } from './catalog';
import { dbtBuild } from './dbt-build';
import { dbtManifest } from './dbt-manifest';
import { ioManager } from './io-manager';
import { overhead } from './overhead';

const benches: Record<string, () => Promise<void>> = { overhead, catalog, backfill, 'dbt-manifest': dbtManifest, 'dbt-build': dbtBuild, 'io-manager': ioManager, automation: automationBench };
const args = process.argv.slice(2);
const names = args.length ? args : (process.env.BENCH_ONLY ?? '').split(',').map((s) => s.trim()).filter(Boolean);
for (const name of names.length ? names : Object.keys(benches)) {
  const bench = benches[name];
  if (!bench) {
    console.error(`unknown benchmark '${name}'; known: ${Object.keys(benches).join(', ')}`);
    process.exit(2);
  }
  console.log(`== ${name}`);
  await bench();
}
