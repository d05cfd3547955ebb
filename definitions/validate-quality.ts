/**
 * Validation of what issue-6 features add to an asset: its checks, its data contract and its IO manager, and
 * the standalone checks of a location. Each message names the asset (and check) and the location.
 */
import type { AssetDefinition } from './asset';
import { checkProblems, isAssetCheck } from './checks';
import type { CodeLocationDefinition } from './code-location';
import { contractProblem, sampleProblem } from './contract';
import { CairnError, ErrorCodes } from './errors';

/** Problems of one asset's checks, contract and IO manager. `at` says where the location is. */
export function assetQualityProblems(a: AssetDefinition<any>, location: CodeLocationDefinition, at: string): CairnError[] {
  const problems: CairnError[] = [];
  const add = (message: string, code: (typeof ErrorCodes)[keyof typeof ErrorCodes] = ErrorCodes.InvalidDefinition): void => {
    problems.push(new CairnError(code, `${message} (in ${at})`, a.key));
  };
  const checks: unknown = a.checks ?? [];
  if (!Array.isArray(checks)) add(`asset '${a.key}': checks must be an array of checks, such as [rowCountAtLeast(1)]`);
  else {
    const names = new Set<string>();
    for (const [i, c] of checks.entries()) {
      if (!isAssetCheck(c)) {
        add(`asset '${a.key}': checks[${i}] is not a check; build it with check({ name, run }) or a built-in such as rowCountAtLeast(1)`);
        continue;
      }
      if (c.asset !== a.key) add(`check '${c.name}' is declared for asset '${c.asset}' but listed in the checks of asset '${a.key}'`);
      for (const p of checkProblems(c)) add(p);
      if (names.has(c.name)) add(`asset '${a.key}' has two checks named '${c.name}'; give one a name: rowCountAtLeast(1, { name: '...' })`);
      names.add(c.name);
      for (const res of c.resources) {
        if (!(res in location.resources)) add(`check '${c.name}' of asset '${a.key}' uses resource '${res}', which the location does not provide`, ErrorCodes.MissingResource);
      }
    }
    if (checks.length > 0 && (a.isExternal || a.multiAsset !== undefined)) {
      add(`asset '${a.key}' is ${a.isExternal ? 'external' : `built by '${a.multiAsset}'`}: Cairn runs TypeScript checks only for assets it materializes itself`);
    }
  }
  if (a.schema !== undefined) {
    const p = contractProblem(a.schema, a.key);
    if (p) add(p);
  }
  const sample = sampleProblem(a.schemaSample, a.key);
  if (sample) add(sample);
  if (a.schemaSample !== undefined && a.schema === undefined) add(`asset '${a.key}': schemaSample needs a schema to validate against`);
  if (a.io !== undefined && !(typeof a.io === 'string' && a.io in location.resources)) {
    const names = Object.keys(location.resources);
    add(`asset '${a.key}': unknown IO manager '${String(a.io)}'; io names a resource of the location that is an IO manager (resources: ${names.length > 0 ? names.join(', ') : 'none'})`);
  }
  return problems;
}

/** Standalone checks (`codeLocation({ checks })`) that name no asset of the location. */
export function standaloneCheckProblems(location: CodeLocationDefinition, at: string): CairnError[] {
  const keys = new Set(location.assets.map((a) => a?.key));
  const problems: CairnError[] = [];
  for (const [i, c] of (location.checks ?? []).entries()) {
    if (!isAssetCheck(c)) {
      problems.push(new CairnError(ErrorCodes.InvalidDefinition, `${at}: checks[${i}] is not a check; build it with check({ asset, name, run })`));
    } else if (c.asset === '') {
      problems.push(new CairnError(ErrorCodes.InvalidDefinition, `${at}: check '${c.name}' names no asset; pass check({ asset: 'key', ... })`));
    } else if (!keys.has(c.asset)) {
      problems.push(new CairnError(ErrorCodes.UnknownAsset, `${at}: check '${c.name}' is for asset '${c.asset}', which this location does not define`, c.asset));
    }
  }
  return problems;
}
