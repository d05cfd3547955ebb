import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { freePort } from '../../workers/dev-server';
import { CAIRN_HOME } from '../../workers/settings';

/** A fresh clone of the working tree: every tracked file and every untracked file git does not ignore. */
function freshClone(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-clone-'));
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: CAIRN_HOME }).toString('utf8').split('\0').filter(Boolean);
  for (const f of files) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    try {
      copyFileSync(join(CAIRN_HOME, f), join(dir, f));
    } catch {
      // a tracked file deleted in the working tree is not part of the clone
    }
  }
  return dir;
}

function npmRunDemo(cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', 'demo'], { cwd, env: { ...process.env, ...env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => resolve({ code, out, ms: Date.now() - started }));
  });
}

test('npm run demo exits 0 in a fresh clone, bootstrapping what is missing, and a second run reuses it', { timeout: 20 * 60_000 }, async () => {
  const dir = freshClone();
  try {
    const env = { TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`, CAIRN_UI_PORT: String(await freePort()) };
    const first = await npmRunDemo(dir, env);
    assert.equal(first.code, 0, first.out);
    assert.match(first.out, /installing node modules/);
    assert.match(first.out, /run \S+ succeeded: 17 materialized, 0 failed, 0 skipped/);
    // The dbt project (parsed on first load: a fresh clone has no manifest) between TypeScript assets.
    assert.match(first.out, /customer_ltv\s+materialized\s+"warehouse"\."main"\."customer_ltv"/);
    assert.match(first.out, /reports\/top_customers\s+materialized\s+5 rows/);
    assert.match(first.out, /Temporal UI: http:\/\/localhost:\d+\/namespaces\/default\/workflows\//);
    const second = await npmRunDemo(dir, env);
    assert.equal(second.code, 0, second.out);
    assert.doesNotMatch(second.out, /installing/);
    assert.match(second.out, /succeeded: 17 materialized/);
    console.log(`demo in a fresh clone: first run ${(first.ms / 1000).toFixed(1)} s (with bootstrap), second run ${(second.ms / 1000).toFixed(1)} s`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
