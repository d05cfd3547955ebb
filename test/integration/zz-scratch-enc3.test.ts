import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { encryptionCodecFromEnv } from '../../client/encryption';
import { createCodecServer } from '../../cli/codec-server';
import { asset } from '../../definitions/asset';
import { codeLocation } from '../../definitions/code-location';
import { startHarness, TEMPORAL_BIN } from './harness';

test('scratch', async () => {
  process.env.CAIRN_ENCRYPTION_KEY = randomBytes(32).toString('base64');
  const h = await startHarness();
  await h.startLocations([codeLocation({ name: 'e3', assets: [asset({ key: 'e3/a', materialize: () => [{ a: 1 }] }), asset({ key: 'e3/b', materialize: () => { throw new Error('boom-secret'); } })] })]);
  const run = await h.client.startRun({ selection: '*' });
  console.log((await h.client.result(run)).status);
  const srv = createCodecServer(encryptionCodecFromEnv()!, []);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  const args = ['workflow', 'show', '--address', h.server.address, '-w', run.workflowId];
  console.log(execFileSync(TEMPORAL_BIN, [...args, '-o', 'json']).toString().slice(0, 400));
  const out = execFileSync(TEMPORAL_BIN, [...args, '--codec-endpoint', url, '-o', 'json']).toString();
  console.log(out.includes('e3/a'), out.includes('boom-secret'), out.includes('binary/encrypted'));
  console.log(out.slice(0, 800));
  srv.close();
  await h.close();
});
