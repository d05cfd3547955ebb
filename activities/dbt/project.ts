/**
 * A dbt project on disk: where it is, which dbt runs it, and its manifest (parsed again with `dbt parse` when
 * it is missing or older than the project's files).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, mkdirSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CairnError, ErrorCodes } from '../../definitions/errors';
import { parseDbtManifest, type DbtManifest } from '../../definitions/dbt/manifest';
import { dbtErrorLines } from './log-events';

export interface DbtProjectLocation {
  /** Absolute project directory (holds dbt_project.yml). */
  dir: string;
  /** Absolute directory of profiles.yml. */
  profilesDir: string;
  target?: string;
  /** The dbt executable. */
  executable: string;
}

/** Folders of a project that are output or installed packages, not sources of the manifest. */
const NOT_SOURCES = new Set(['target', 'logs', 'dbt_packages', 'dbt_modules', 'node_modules', '.venv']);

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The environment every dbt process gets: no telemetry, no version check, no colors. */
export function dbtEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    DBT_SEND_ANONYMOUS_USAGE_STATS: 'false',
    DO_NOT_TRACK: '1',
    DBT_VERSION_CHECK: 'false',
    DBT_USE_COLORS: 'false',
    ...extra,
  };
}

function toPath(p: string | URL): string {
  return p instanceof URL ? fileURLToPath(p) : resolve(p);
}

/**
 * The dbt executable: `CAIRN_DBT`, else `.venv/bin/dbt` in the working directory or above it, else in Cairn's
 * own folder. Fails with how to install it.
 */
export function findDbtExecutable(explicit?: string): string {
  const given = explicit ?? process.env.CAIRN_DBT;
  if (given) {
    if (!existsSync(given)) throw new CairnError(ErrorCodes.InvalidDefinition, `the dbt executable '${given}' does not exist (from ${explicit ? 'the dbtExecutable option' : 'CAIRN_DBT'})`, given);
    return given;
  }
  const candidates: string[] = [];
  for (let dir = process.cwd(); ; dir = dirname(dir)) {
    candidates.push(join(dir, '.venv', 'bin', 'dbt'));
    if (dirname(dir) === dir) break;
  }
  candidates.push(join(REPO_ROOT, '.venv', 'bin', 'dbt'));
  const found = candidates.find((c) => existsSync(c));
  if (!found) {
    throw new CairnError(ErrorCodes.InvalidDefinition, `dbt is not installed: no .venv/bin/dbt in ${process.cwd()}, its parents or ${REPO_ROOT}; run \`npm run bootstrap\` (installs dbt-core and dbt-duckdb into .venv) or set CAIRN_DBT`, 'dbt');
  }
  return found;
}

/** Checks the project and profiles directories; every message names the directory. */
export function locateDbtProject(opts: { project: string | URL; profilesDir?: string | URL; target?: string; dbtExecutable?: string }): Omit<DbtProjectLocation, 'executable'> {
  const dir = toPath(opts.project);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new CairnError(ErrorCodes.InvalidDefinition, `dbt project directory '${dir}' does not exist`, dir);
  }
  if (!existsSync(join(dir, 'dbt_project.yml'))) {
    throw new CairnError(ErrorCodes.InvalidDefinition, `'${dir}' is not a dbt project: it has no dbt_project.yml`, dir);
  }
  const profilesDir = opts.profilesDir !== undefined ? toPath(opts.profilesDir) : existsSync(join(dir, 'profiles.yml')) ? dir : join(process.env.HOME ?? '~', '.dbt');
  if (!existsSync(join(profilesDir, 'profiles.yml'))) {
    throw new CairnError(ErrorCodes.InvalidDefinition, `dbt project '${dir}': no profiles.yml in '${profilesDir}'; pass profilesDir or add profiles.yml to the project`, profilesDir);
  }
  return { dir, profilesDir, ...(opts.target !== undefined ? { target: opts.target } : {}) };
}

/** The newest modification time of the files dbt reads to build the manifest. */
export function newestSourceMtime(dir: string): number {
  let newest = 0;
  const walk = (d: string, top: boolean): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.name.startsWith('.') || (top && NOT_SOURCES.has(e.name))) continue;
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p, false);
      else if (e.isFile()) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  walk(dir, true);
  return newest;
}

/** Runs `dbt parse` into a private target path, then moves the manifest (and partial-parse state) into target/. */
function runDbtParse(project: DbtProjectLocation): void {
  const scratch = mkdtempSync(join(tmpdir(), 'cairn-dbt-parse-'));
  try {
    const args = ['parse', '--project-dir', project.dir, '--profiles-dir', project.profilesDir, '--target-path', scratch, '--log-path', scratch, '--log-format', 'json', '--no-use-colors', ...(project.target ? ['--target', project.target] : [])];
    const r = spawnSync(project.executable, args, { cwd: project.dir, env: dbtEnv(), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (r.error) throw new CairnError(ErrorCodes.InvalidDefinition, `dbt project '${project.dir}': cannot run ${project.executable}: ${r.error.message}`, project.dir);
    if (r.status !== 0) {
      const lines = dbtErrorLines(`${r.stdout}\n${r.stderr}`);
      throw new CairnError(ErrorCodes.InvalidDefinition, `dbt parse failed for project '${project.dir}' (exit ${r.status ?? r.signal}): ${lines.join(' | ') || 'no error message'}`, project.dir);
    }
    const target = join(project.dir, 'target');
    mkdirSync(target, { recursive: true });
    if (existsSync(join(scratch, 'partial_parse.msgpack'))) copyFileSync(join(scratch, 'partial_parse.msgpack'), join(target, 'partial_parse.msgpack'));
    // A rename within one folder is atomic: a reader sees the old manifest or the new one, never half of one.
    const staged = join(target, `.manifest.${process.pid}.json`);
    copyFileSync(join(scratch, 'manifest.json'), staged);
    renameSync(staged, join(target, 'manifest.json'));
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * Reads `target/manifest.json`, running `dbt parse` first when it is missing or older than a project file.
 * Synchronous: code locations call it while their module loads.
 */
export function loadDbtManifest(project: Omit<DbtProjectLocation, 'executable'>, opts: { parse?: 'auto' | 'always' | 'never'; dbtExecutable?: string } = {}): { manifest: DbtManifest; path: string; parsed: boolean } {
  const path = join(project.dir, 'target', 'manifest.json');
  const mode = opts.parse ?? 'auto';
  const stale = !existsSync(path) || statSync(path).mtimeMs < newestSourceMtime(project.dir);
  let parsed = false;
  if (mode === 'always' || (mode === 'auto' && stale)) {
    runDbtParse({ ...project, executable: findDbtExecutable(opts.dbtExecutable) });
    parsed = true;
  } else if (!existsSync(path)) {
    throw new CairnError(ErrorCodes.InvalidDefinition, `dbt project '${project.dir}' has no target/manifest.json; run \`dbt parse\` or let Cairn parse it (parse: 'auto')`, path);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new CairnError(ErrorCodes.InvalidDefinition, `dbt manifest ${path} is not valid JSON (${(e as Error).message}); delete it so that Cairn runs \`dbt parse\` again`, path);
  }
  return { manifest: parseDbtManifest(raw, path), path, parsed };
}
