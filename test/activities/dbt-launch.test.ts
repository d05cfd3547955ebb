import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { dbtLaunch } from '../../activities/dbt/build';
import { CAIRN_HOME } from '../../workers/settings';

const dir = mkdtempSync(join(tmpdir(), 'cairn-dbt-launch-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('dbt started through the launch shim dies with a worker that is killed (no orphan keeps writing the warehouse)', { skip: process.platform !== 'linux' && 'PR_SET_PDEATHSIG is Linux-only' }, async () => {
  // A stand-in for .venv/bin/dbt next to the venv's real Python, so the shim is used.
  const bin = join(dir, 'bin');
  const fake = join(bin, 'dbt');
  mkdirSync(bin, { recursive: true });
  symlinkSync(resolve(CAIRN_HOME, '.venv/bin/python'), join(bin, 'python'));
  writeFileSync(fake, '#!/bin/sh\nexec sleep 300\n');
  chmodSync(fake, 0o755);
  const launch = dbtLaunch(fake, ['build']);
  assert.equal(launch.command, join(bin, 'python'));

  // A throwaway "worker" starts it, prints the pid, and is then killed with SIGKILL (no cleanup code runs).
  const script = `const { spawn } = require('node:child_process'); const c = spawn(${JSON.stringify(launch.command)}, ${JSON.stringify(launch.args)}, { stdio: 'ignore' }); console.log(c.pid); setInterval(() => {}, 1000);`;
  const worker = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const pid = await new Promise<number>((r) => worker.stdout.once('data', (d: Buffer) => r(Number(String(d).trim()))));
  await new Promise((r) => setTimeout(r, 500));
  assert.ok(alive(pid), 'the stand-in dbt runs');
  worker.kill('SIGKILL');
  const deadline = Date.now() + 10_000;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(alive(pid), false, 'it got SIGTERM when its parent died');
});

test('without a venv Python next to it, dbt is started directly', () => {
  assert.deepEqual(dbtLaunch('/opt/dbt/bin/dbt', ['build', '--select', 'x']), { command: '/opt/dbt/bin/dbt', args: ['build', '--select', 'x'] });
});
