import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { asset } from '../../definitions/asset';
import { codeLocation, resourceType } from '../../definitions/code-location';
import { CairnError, ErrorCodes } from '../../definitions/errors';
import { describeResourceConfig, env, isEnvVar, isResourceDefinition, resource } from '../../definitions/resource';
import { LocationSnapshotSchema } from '../../definitions/snapshot';
import { locationSnapshot } from '../../definitions/to-snapshot';

class FakeStripe {
  constructor(readonly apiKey: string, readonly region: string) {}
}

const stripe = resource({
  type: 'stripe',
  config: z.object({ apiKey: z.string().min(1), region: z.enum(['eu', 'us']).default('eu') }),
  create: (c) => new FakeStripe(c.apiKey, c.region),
});

const orders = asset({ key: 'shop/orders', resources: ['stripe'], materialize: () => [] });

describe('env()', () => {
  test('a reference is secret unless told otherwise', () => {
    assert.deepEqual({ ...env('STRIPE_KEY') }, { kind: 'env-var', name: 'STRIPE_KEY', secret: true });
    assert.equal(env('REGION', { secret: false }).secret, false);
    assert.ok(isEnvVar(env('_X1')));
    assert.ok(!isEnvVar({ name: 'X' }));
  });

  test('an invalid variable name fails at declaration and shows how a valid one looks', () => {
    for (const bad of ['', '1KEY', 'STRIPE-KEY', 'A B', 'KEY=1']) {
      assert.throws(() => env(bad), (e: unknown) => e instanceof CairnError && e.code === ErrorCodes.InvalidDefinition && /not a valid environment variable name.*env\('STRIPE_KEY'\)/.test(e.message), bad);
    }
    assert.throws(() => env(42 as unknown as string), CairnError);
  });
});

describe('resource()', () => {
  test('calling the factory gives a definition with the values as written, env references unresolved', () => {
    const key = env('STRIPE_KEY');
    const def = stripe({ apiKey: key, region: 'us' });
    assert.ok(isResourceDefinition(def));
    assert.equal(def.kind, 'resource');
    assert.equal(def.type, 'stripe');
    assert.deepEqual(def.values, { apiKey: key, region: 'us' });
    assert.equal(typeof def.createInstance, 'function');
  });

  test('the factory itself is a resource with empty config values', () => {
    assert.ok(isResourceDefinition(stripe));
    assert.equal(stripe.kind, 'resource');
    assert.deepEqual(stripe.values, {});
    const clock = resource({ create: () => ({ now: () => 0 }) });
    assert.equal(clock.type, 'resource');
    assert.deepEqual(describeResourceConfig(clock), {});
  });

  test('a definition does not expose close or dispose, so duck-typed cleanup of plain resources skips it', () => {
    const def = resource({ create: () => 1, dispose: () => undefined })();
    assert.equal('dispose' in def, false);
    assert.equal('close' in def, false);
    assert.equal(typeof def.disposeInstance, 'function');
  });

  test('bad options fail at declaration', () => {
    assert.throws(() => resource({} as never), /create function/);
    assert.throws(() => resource({ config: { apiKey: 'string' } as never, create: () => 1 }), /must be a zod schema/);
    assert.throws(() => resource({ type: ' ', create: () => 1 }), /non-empty string/);
  });

  test('plain objects, duckdb-like resources and other values are not declared resources', () => {
    assert.ok(!isResourceDefinition({ type: 'duckdb' }));
    assert.ok(!isResourceDefinition({ kind: 'resource' }));
    assert.ok(!isResourceDefinition(null));
    assert.ok(!isResourceDefinition(() => 1));
  });

  test('config values accept env references at any depth, and the factory argument is type-checked', () => {
    const nested = resource({
      config: z.object({ hosts: z.array(z.object({ url: z.string(), token: z.string() })), port: z.coerce.number() }),
      create: (c) => c,
    });
    const def = nested({ hosts: [{ url: 'https://a', token: env('TOKEN_A') }, { url: env('URL_B', { secret: false }), token: env('TOKEN_B') }], port: env('PORT', { secret: false }) });
    assert.deepEqual(describeResourceConfig(def), { hosts: [{ url: 'https://a', token: 'env:TOKEN_A' }, { url: 'env:URL_B', token: 'env:TOKEN_B' }], port: 'env:PORT' });
    // @ts-expect-error apiKey is required by the schema
    assert.ok(isResourceDefinition(stripe({ region: 'eu' })));
    // @ts-expect-error region must be one of the enum's values
    assert.ok(isResourceDefinition(stripe({ apiKey: 'k', region: 'asia' })));
  });
});

describe('describeResourceConfig()', () => {
  test('renders each env reference as env:NAME and keeps literal values', () => {
    const def = stripe({ apiKey: env('STRIPE_KEY'), region: 'eu' });
    assert.deepEqual(describeResourceConfig(def), { apiKey: 'env:STRIPE_KEY', region: 'eu' });
  });

  test('renders values JSON cannot carry as text, and drops undefined fields', () => {
    const any = resource({ create: (c) => c });
    const def = any({ when: new Date(Date.UTC(2024, 0, 2)), big: 10n, fn: () => 1, inst: new FakeStripe('k', 'eu'), gone: undefined, list: [undefined, Infinity] });
    assert.deepEqual(describeResourceConfig(def), { when: '2024-01-02T00:00:00.000Z', big: '10', fn: '[function]', inst: '[FakeStripe]', list: [null, 'Infinity'] });
  });
});

describe('snapshot of a location with declared resources', () => {
  test('publishes the type and the config with env:NAME, never the value, even when the variable is set', () => {
    const secret = 'sk_live_never_in_a_snapshot_123';
    const before = process.env.STRIPE_KEY_SNAPSHOT_TEST;
    process.env.STRIPE_KEY_SNAPSHOT_TEST = secret;
    try {
      const location = codeLocation({
        name: 'shop',
        assets: [orders],
        resources: { stripe: stripe({ apiKey: env('STRIPE_KEY_SNAPSHOT_TEST'), region: 'eu' }), cache: { type: 'memory-cache' } },
      });
      const snapshot = locationSnapshot(location);
      assert.deepEqual(snapshot.resources, {
        stripe: { type: 'stripe', config: { apiKey: 'env:STRIPE_KEY_SNAPSHOT_TEST', region: 'eu' } },
        cache: { type: 'memory-cache' },
      });
      const json = JSON.stringify(LocationSnapshotSchema.parse(snapshot));
      assert.ok(!json.includes(secret));
      assert.ok(json.includes('env:STRIPE_KEY_SNAPSHOT_TEST'));
    } finally {
      if (before === undefined) delete process.env.STRIPE_KEY_SNAPSHOT_TEST;
      else process.env.STRIPE_KEY_SNAPSHOT_TEST = before;
    }
  });

  test('the snapshot version changes with a resource config and is stable otherwise', () => {
    const at = (region: 'eu' | 'us') => locationSnapshot(codeLocation({ name: 'shop', assets: [orders], resources: { stripe: stripe({ apiKey: env('K'), region }) } })).version;
    assert.equal(at('eu'), at('eu'));
    assert.notEqual(at('eu'), at('us'));
  });

  test('resourceType reports the declared type, the factory default, or a plain object type as before', () => {
    assert.equal(resourceType(stripe({ apiKey: env('K') })), 'stripe');
    assert.equal(resourceType(stripe), 'stripe');
    assert.equal(resourceType(resource({ create: () => 1 })), 'resource');
    assert.equal(resourceType({ type: 'duckdb' }), 'duckdb');
    assert.equal(resourceType(new FakeStripe('k', 'eu')), 'FakeStripe');
  });
});
