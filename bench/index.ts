// `npm run bench -- <name>`: benchmarks print figures measured in one run; BENCHMARKS.md records them.
import { overhead } from './overhead';

const benches: Record<string, () => Promise<void>> = { overhead };
const names = process.argv.slice(2);
for (const name of names.length ? names : Object.keys(benches)) {
  const bench = benches[name];
  if (!bench) {
    console.error(`unknown benchmark '${name}'; known: ${Object.keys(benches).join(', ')}`);
    process.exit(2);
  }
  console.log(`== ${name}`);
  await bench();
}
