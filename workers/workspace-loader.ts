import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isCodeLocation, type CodeLocationDefinition } from '../definitions/code-location';
import { CairnError, ErrorCodes } from '../definitions/errors';
import { validateWorkspace } from '../definitions/validate';
import { DEFAULT_WORKSPACE_FILE, WorkspaceFileSchema, type WorkspaceFile } from '../definitions/workspace';

export interface LoadedLocation {
  location: CodeLocationDefinition;
  /** The module path relative to the workspace root, used in messages. */
  source: string;
  modulePath: string;
}

export interface LoadedWorkspace {
  file: string;
  root: string;
  config: WorkspaceFile;
  locations: LoadedLocation[];
  /** Every problem found: unloadable modules and all validation errors. */
  problems: CairnError[];
}

/** Finds the workspace file: an explicit path, `CAIRN_WORKSPACE`, or `cairn.workspace.json` in cwd or above. */
export function findWorkspaceFile(explicit?: string, cwd = process.cwd()): string {
  const given = explicit ?? process.env.CAIRN_WORKSPACE;
  if (given) {
    const p = resolve(cwd, given);
    if (!existsSync(p)) throw new CairnError(ErrorCodes.InvalidWorkspace, `workspace file '${given}' does not exist (resolved to ${p})`, given);
    return p;
  }
  let dir = resolve(cwd);
  for (;;) {
    const candidate = resolve(dir, DEFAULT_WORKSPACE_FILE);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new CairnError(ErrorCodes.InvalidWorkspace, `no ${DEFAULT_WORKSPACE_FILE} in ${cwd} or any folder above it; create one listing your code locations, or pass --workspace`, cwd);
}

/** Reads and checks the workspace file itself (not the modules it names). */
export function readWorkspaceFile(file: string): WorkspaceFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CairnError(ErrorCodes.InvalidWorkspace, `workspace file ${file} is not valid JSON: ${(e as Error).message}`, file);
  }
  const parsed = WorkspaceFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `field '${i.path.join('.') || '(root)'}': ${i.message}`).join('; ');
    throw new CairnError(ErrorCodes.InvalidWorkspace, `workspace file ${file} is invalid: ${issues}`, file);
  }
  return parsed.data;
}

/** Imports one code-location module and finds its code location (the default export, or the one exported). */
export async function importLocation(modulePath: string, source: string): Promise<CodeLocationDefinition> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(modulePath).href)) as Record<string, unknown>;
  } catch (e) {
    const err = e as Error;
    throw new CairnError(ErrorCodes.InvalidWorkspace, `code location module ${source} failed to load: ${err.message}`, source);
  }
  if (isCodeLocation(mod.default)) return mod.default;
  const found = Object.values(mod).filter(isCodeLocation);
  if (found.length === 1) return found[0] as CodeLocationDefinition;
  throw new CairnError(
    ErrorCodes.InvalidWorkspace,
    found.length === 0
      ? `module ${source} exports no code location; add \`export default codeLocation({ name, assets })\``
      : `module ${source} exports ${found.length} code locations; export exactly one (as the default export)`,
    source,
  );
}

/** Loads the workspace and every code location it lists, collecting every problem instead of stopping at the first. */
export async function loadWorkspace(explicit?: string): Promise<LoadedWorkspace> {
  const file = findWorkspaceFile(explicit);
  const root = dirname(file);
  const config = readWorkspaceFile(file);
  const problems: CairnError[] = [];
  const locations: LoadedLocation[] = [];
  for (const [i, entry] of config.codeLocations.entries()) {
    const modulePath = resolve(root, entry.module);
    const source = relative(process.cwd(), modulePath) || entry.module;
    if (!existsSync(modulePath)) {
      problems.push(new CairnError(ErrorCodes.InvalidWorkspace, `workspace file ${relative(process.cwd(), file) || file}: codeLocations[${i}].module '${entry.module}' points nowhere (no file at ${modulePath})`, file));
      continue;
    }
    try {
      const location = await importLocation(modulePath, source);
      if (entry.name !== undefined && entry.name !== location.name) {
        problems.push(new CairnError(ErrorCodes.InvalidWorkspace, `workspace file names codeLocations[${i}] '${entry.name}' but ${source} declares '${location.name}'`, file));
      }
      locations.push({ location, source, modulePath });
    } catch (e) {
      if (e instanceof CairnError) problems.push(e);
      else throw e;
    }
  }
  problems.push(...validateWorkspace(locations));
  return { file, root, config, locations, problems };
}
