import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import { AesGcmPayloadCodec } from '../../client/encryption';
import { payloadsFromJson, payloadsToJson } from '../../cli/codec-server';
import { cairn, startCairn } from './cli-helpers';

const key = randomBytes(32);
const UI = 'http://localhost:8233';
const b64 = (s: string): string => Buffer.from(s).toString('base64');
const plainBody = { payloads: [{ metadata: { encoding: b64('json/plain') }, data: b64('{"asset":"marts/customer_ltv","threshold":0.75}') }] };

describe('cairn codec-server', () => {
  let child: ChildProcess;
  let url = '';
  const post = (path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${url}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Namespace': 'default', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

  before(async () => {
    const started = await startCairn(['codec-server', '--port', '0'], '--ui-codec-endpoint', { env: { CAIRN_ENCRYPTION_KEY: key.toString('base64') }, timeoutMs: 60_000 });
    child = started.child;
    url = /listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(started.output())?.[1] ?? '';
    assert.ok(url, started.output());
    assert.match(started.output(), /--ui-codec-endpoint http:\/\/127\.0\.0\.1:\d+/);
  });

  after(async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGINT');
    assert.equal(await exited, 0, 'the codec server ends cleanly on Ctrl-C');
  });

  test('a payload encoded through /encode is ciphertext and decodes back through /decode', async () => {
    const encoded = await post('/encode', plainBody);
    assert.equal(encoded.status, 200);
    const encBody = (await encoded.json()) as typeof plainBody;
    const [enc] = encBody.payloads;
    assert.equal(Buffer.from(enc?.metadata.encoding ?? '', 'base64').toString(), 'binary/encrypted');
    assert.equal(Buffer.from(enc?.data ?? '', 'base64').includes('customer_ltv'), false);
    const decoded = await post('/decode', encBody);
    assert.equal(decoded.status, 200);
    assert.deepEqual(await decoded.json(), plainBody);
  });

  test('it decodes what Cairn workers encrypt with the same key, and workers decode what it encrypts', async () => {
    const codec = new AesGcmPayloadCodec(key);
    const fromWorker = payloadsToJson(await codec.encode([defaultPayloadConverter.toPayload({ rows: 3 })]));
    const decoded = payloadsFromJson(await (await post('/decode', fromWorker)).json());
    assert.deepEqual(defaultPayloadConverter.fromPayload(decoded[0]!), { rows: 3 });
    const fromServer = payloadsFromJson(await (await post('/encode', plainBody)).json());
    const [back] = await codec.decode(fromServer);
    assert.equal(Buffer.from(back?.data ?? []).toString(), '{"asset":"marts/customer_ltv","threshold":0.75}');
  });

  test('the Web UI origin passes the CORS preflight, with credentials and the X-Namespace header allowed', async () => {
    const res = await fetch(`${url}/decode`, { method: 'OPTIONS', headers: { Origin: UI, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,x-namespace' } });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), UI);
    assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
    assert.match(res.headers.get('access-control-allow-methods') ?? '', /POST/);
    assert.equal(res.headers.get('access-control-allow-headers'), 'Content-Type, X-Namespace');
    const real = await post('/decode', plainBody, { Origin: UI });
    assert.equal(real.status, 200);
    assert.equal(real.headers.get('access-control-allow-origin'), UI);
  });

  test('another origin is refused, since the server decrypts whatever it is sent', async () => {
    const res = await post('/decode', plainBody, { Origin: 'http://attacker.example' });
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('access-control-allow-origin'), null);
    assert.match(((await res.json()) as { error: string }).error, /origin http:\/\/attacker\.example may not use this codec server/);
  });

  test('a body that is not JSON, or not a list of payloads, gets a 400 with a JSON error', async () => {
    const bad = await post('/decode', '{"payloads": [');
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /the body is not valid JSON/);
    const shape = await post('/encode', { payloads: [{ metadata: { encoding: 42 } }] });
    assert.equal(shape.status, 400);
    assert.match(((await shape.json()) as { error: string }).error, /payloads\[0\]\.metadata\.encoding must be a base64 string/);
    const missing = await fetch(`${url}/nope`, { method: 'POST', body: '{}' });
    assert.equal(missing.status, 404);
  });

  test('a payload encrypted with another key gets a 400 naming both key ids', async () => {
    const other = new AesGcmPayloadCodec(randomBytes(32));
    const res = await post('/decode', payloadsToJson(await other.encode([defaultPayloadConverter.toPayload('x')])));
    assert.equal(res.status, 400);
    const { error } = (await res.json()) as { error: string };
    assert.match(error, new RegExp(`encrypted with key id ${other.keyId}, but CAIRN_ENCRYPTION_KEY has key id ${new AesGcmPayloadCodec(key).keyId}`));
    assert.match(error, /does not match the key that encrypted the payload/);
  });

  test('without CAIRN_ENCRYPTION_KEY it refuses to start, saying how to make a key', async () => {
    const r = await cairn(['codec-server', '--port', '0'], { env: { CAIRN_ENCRYPTION_KEY: '' } });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /CAIRN_ENCRYPTION_KEY is not set/);
    assert.match(r.stderr, /openssl rand -base64 32/);
  });

  test('with a malformed key it refuses to start, naming the expected format', async () => {
    const r = await cairn(['codec-server', '--port', '0'], { env: { CAIRN_ENCRYPTION_KEY: 'hunter2' } });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /CAIRN_ENCRYPTION_KEY must be a 32-byte key written as base64/);
    assert.equal(r.stderr.includes('hunter2'), false);
  });
});
