import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { createRedactor, noRedaction } from '../../activities/redact';
import { initResources } from '../../activities/resources';
import { CairnError, CairnErrors, ErrorCodes } from '../../definitions/errors';
import { env, resource, type ResourceDefinition } from '../../definitions/resource';

const SECRET = 'sk_live_51HxTopSecretValue';

class Client {
  static created = 0;
  constructor(readonly apiKey: string, readonly region: string, readonly timeoutMs: number) {
    Client.created++;
  }
}

const stripe = resource({
  type: 'stripe',
  config: z.object({ apiKey: z.string().min(1), region: z.enum(['eu', 'us']).default('eu'), timeoutMs: z.coerce.number().int().positive().default(10_000) }),
  create: (c) => new Client(c.apiKey, c.region, c.timeoutMs),
});

const shop = (resources: Record<string, unknown>) => ({ name: 'shop', resources });

/** The error initResources rejects with, for assertions on its code and lines. */
async function failure(p: Promise<unknown>): Promise<CairnError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof CairnError, `expected a CairnError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected initResources to fail');
}

/** A resource that records create and dispose calls in `events`. */
function tracked(events: string[], opts: { failCreate?: string; failDispose?: string } = {}) {
  return resource({
    config: z.object({ label: z.string() }),
    create: (c, ctx) => {
      if (opts.failCreate) throw new Error(opts.failCreate);
      events.push(`create ${ctx.name}`);
      return { label: c.label };
    },
    dispose: async (instance) => {
      events.push(`dispose ${instance.label}`);
      if (opts.failDispose) throw new Error(opts.failDispose);
    },
  });
}

describe('initResources', () => {
  test('resolves env references in the worker, applies zod defaults and creates each resource once', async () => {
    Client.created = 0;
    const { resources, secrets } = await initResources(shop({ stripe: stripe({ apiKey: env('STRIPE_KEY') }) }), { env: { STRIPE_KEY: SECRET } });
    assert.equal(Client.created, 1);
    const client = resources.stripe as Client;
    assert.ok(client instanceof Client);
    assert.deepEqual({ ...client }, { apiKey: SECRET, region: 'eu', timeoutMs: 10_000 });
    assert.deepEqual(secrets, [SECRET]);
  });

  test('create receives the resource name and location; the factory itself works when its schema has defaults', async () => {
    const seen: unknown[] = [];
    const cache = resource({ config: z.object({ size: z.number().default(64) }), create: (c, ctx) => (seen.push({ c, ctx }), new Map()) });
    const { resources } = await initResources(shop({ cache }), { env: {} });
    assert.ok(resources.cache instanceof Map);
    assert.deepEqual(seen, [{ c: { size: 64 }, ctx: { name: 'cache', location: 'shop' } }]);
  });

  test('plain objects pass through unchanged, in declaration order', async () => {
    const warehouse = { type: 'duckdb', close: () => undefined };
    const { resources } = await initResources(shop({ warehouse, stripe: stripe({ apiKey: 'k_literal' }), n: 3 }), { env: {} });
    assert.equal(resources.warehouse, warehouse);
    assert.deepEqual(Object.keys(resources), ['warehouse', 'stripe', 'n']);
    assert.equal(resources.n, 3);
  });

  test('a missing environment variable is named, with the resource, location and field', async () => {
    const e = await failure(initResources(shop({ stripe: stripe({ apiKey: env('STRIPE_KEY'), region: 'eu' }) }), { env: {} }));
    assert.equal(e.code, ErrorCodes.InvalidResourceConfig);
    assert.match(e.message, /resource 'stripe' of code location 'shop': config field 'apiKey': environment variable STRIPE_KEY is not set/);
    // the missing value is not reported a second time as a zod type error
    assert.equal(e.message.split('\n').length, 1);
  });

  test('an invalid config names the zod path and message', async () => {
    const nested = resource({ config: z.object({ retry: z.object({ attempts: z.number().int().max(10) }) }), create: () => 1 });
    const e = await failure(initResources(shop({ api: nested({ retry: { attempts: 50 } }) }), { env: {} }));
    assert.equal(e.code, ErrorCodes.InvalidResourceConfig);
    assert.match(e.message, /resource 'api' of code location 'shop': config field 'retry\.attempts': Too big: expected number to be <=10/);
    assert.ok(e instanceof CairnErrors);
    assert.equal(e.errors[0]?.where, 'api.retry.attempts');
  });

  test('every problem of every resource is reported at once, before any create runs', async () => {
    const events: string[] = [];
    const e = await failure(initResources(shop({
      first: tracked(events)({ label: 'first' }),
      stripe: stripe({ apiKey: env('STRIPE_KEY'), region: 'asia' as 'eu', timeoutMs: env('STRIPE_TIMEOUT', { secret: false }) }),
      other: tracked(events)({ label: env('LABEL') }),
    }), { env: { STRIPE_TIMEOUT: 'soon' } }));
    assert.ok(e instanceof CairnErrors);
    const lines = e.message.split('\n');
    assert.equal(lines.length, 4, e.message);
    assert.match(e.message, /resource 'stripe' .*: config field 'apiKey': environment variable STRIPE_KEY is not set/);
    assert.match(e.message, /resource 'stripe' .*: config field 'region': Invalid option/);
    assert.match(e.message, /resource 'stripe' .*: config field 'timeoutMs': .*\(from environment variable STRIPE_TIMEOUT\)/);
    assert.match(e.message, /resource 'other' .*: config field 'label': environment variable LABEL is not set/);
    assert.deepEqual(e.errors.map((x) => x.code), Array(4).fill(ErrorCodes.InvalidResourceConfig));
    assert.deepEqual(events, []);
  });

  test('a secret never appears in an error message, even when a refinement quotes it', async () => {
    const api = resource({
      config: z.object({ token: z.string().refine((t) => t.startsWith('tok_'), { error: (i) => `token ${String(i.input)} must start with tok_` }), missing: z.string() }),
      create: () => 1,
    });
    const e = await failure(initResources(shop({ api: api({ token: env('API_TOKEN'), missing: env('NOT_SET') }) }), { env: { API_TOKEN: SECRET } }));
    assert.ok(!e.message.includes(SECRET), e.message);
    assert.match(e.message, /config field 'token': token \*\*\* must start with tok_/);
    assert.ok(!JSON.stringify(e).includes(SECRET));
  });

  test('a failing create disposes the resources already created, in reverse order, and names the resource', async () => {
    const events: string[] = [];
    const e = await failure(initResources(shop({
      a: tracked(events)({ label: 'a' }),
      b: tracked(events)({ label: 'b' }),
      c: tracked(events, { failCreate: `connection refused for key ${SECRET}` })({ label: env('C_KEY') }),
      d: tracked(events)({ label: 'd' }),
    }), { env: { C_KEY: SECRET } }));
    assert.deepEqual(events, ['create a', 'create b', 'dispose b', 'dispose a']);
    assert.equal(e.code, ErrorCodes.InvalidResourceConfig);
    assert.match(e.message, /resource 'c' of code location 'shop': create\(\) failed: connection refused for key \*\*\*/);
    assert.ok(!e.message.includes(SECRET));
    const cause = (e as { cause?: Error }).cause;
    assert.ok(cause && !cause.message.includes(SECRET) && !String(cause.stack).includes(SECRET));
  });

  test('dispose runs in reverse declaration order, goes on after a failure, reports it, and runs once', async () => {
    const events: string[] = [];
    const plain = { close: () => events.push('plain closed') };
    const init = await initResources(shop({
      a: tracked(events)({ label: 'a' }),
      plain,
      b: tracked(events, { failDispose: `cannot close ${SECRET}` })({ label: env('B_LABEL') }),
      c: tracked(events)({ label: 'c' }),
    }), { env: { B_LABEL: SECRET } });
    events.length = 0;
    await assert.rejects(init.dispose(), (err: Error) => /resource 'b' of code location 'shop': dispose\(\) failed: cannot close \*\*\*/.test(err.message) && !err.message.includes(SECRET));
    assert.deepEqual(events, ['dispose c', `dispose ${SECRET}`, 'dispose a']);
    await assert.rejects(init.dispose());
    assert.equal(events.length, 3);
  });

  test('the secrets are the non-empty values of secret references, without duplicates', async () => {
    const any = resource({ create: (c) => c });
    const { secrets, resources } = await initResources(shop({
      x: any({ key: env('K1'), again: env('K1'), region: env('REGION', { secret: false }), empty: env('EMPTY'), list: [{ k: env('K2') }] }),
    }), { env: { K1: 'first-secret', K2: 'second-secret', REGION: 'eu-west-1', EMPTY: '' } });
    assert.deepEqual(secrets.sort(), ['first-secret', 'second-secret']);
    assert.deepEqual(resources.x, { key: 'first-secret', again: 'first-secret', region: 'eu-west-1', empty: '', list: [{ k: 'second-secret' }] });
  });

  test('a definition reads process.env by default', async () => {
    process.env.CAIRN_RESOURCES_TEST_KEY = 'from-process-env';
    try {
      const def: ResourceDefinition = stripe({ apiKey: env('CAIRN_RESOURCES_TEST_KEY') });
      const { resources } = await initResources(shop({ stripe: def }));
      assert.equal((resources.stripe as Client).apiKey, 'from-process-env');
    } finally {
      delete process.env.CAIRN_RESOURCES_TEST_KEY;
    }
  });
});

describe('createRedactor', () => {
  test('replaces every occurrence of each secret in a string, longest first', () => {
    const r = createRedactor(['abcd', 'abcdefgh']);
    assert.equal(r.text('key=abcdefgh, prefix=abcd, twice abcdabcd'), 'key=***, prefix=***, twice ******');
    assert.equal(r.text('nothing here'), 'nothing here');
  });

  test('escapes regex special characters in secrets', () => {
    const secret = 'p4$$.w(o)r*d+?[x]{2}|^\\/';
    const r = createRedactor([secret]);
    assert.equal(r.text(`password=${secret}; p4$$Xw(o)r*d`), 'password=***; p4$$Xw(o)r*d');
  });

  test('also matches a secret as it appears inside JSON and in a URL', () => {
    const secret = 'pa"ss/wo@rd';
    const r = createRedactor([secret]);
    assert.equal(r.text(JSON.stringify({ password: secret })), '{"password":"***"}');
    assert.equal(r.text(`postgres://u:${encodeURIComponent(secret)}@db/x`), 'postgres://u:***@db/x');
  });

  test('ignores secrets shorter than four characters', () => {
    const r = createRedactor(['eu', '443', 'longer']);
    assert.equal(r.text('eu 443 longer'), 'eu 443 ***');
    assert.equal(createRedactor(['eu', '']), noRedaction);
    assert.equal(noRedaction.active, false);
  });

  test('redacts deep in objects and arrays, copying only what changed', () => {
    const r = createRedactor([SECRET]);
    const untouched = { rows: 3, tags: ['a'] };
    const input = { url: `https://api?key=${SECRET}`, nested: { list: [1, `x ${SECRET}`, { deep: SECRET }] }, untouched, when: new Date(0), [SECRET]: true };
    const out = r.value(input);
    assert.deepEqual(out, { url: 'https://api?key=***', nested: { list: [1, 'x ***', { deep: '***' }] }, untouched, when: new Date(0), '***': true });
    assert.equal(out.untouched, untouched);
    assert.ok(input.url.includes(SECRET), 'the input is not modified');
    const clean = { a: [1, 'two', { three: 3 }] };
    assert.equal(r.value(clean), clean);
    assert.equal(r.value('plain'), 'plain');
  });

  test('survives cyclic values', () => {
    const r = createRedactor([SECRET]);
    const cyclic: Record<string, unknown> = { s: SECRET };
    cyclic.self = cyclic;
    const out = r.value(cyclic);
    assert.equal(out.s, '***');
  });
});
