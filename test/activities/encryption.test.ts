import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { ApplicationFailure, defaultPayloadConverter, type Payload } from '@temporalio/common';
import { decodeOptionalFailureToOptionalError, encodeErrorToFailure, loadDataConverter } from '@temporalio/common/lib/internal-non-workflow';
import proto from '@temporalio/proto';
import { AesGcmPayloadCodec, cairnDataConverter, ENCRYPTED_ENCODING, EncryptionError, encryptionKeyId, MissingKeyCodec, parseEncryptionKey } from '../../client/encryption';

const key = randomBytes(32);
const codec = new AesGcmPayloadCodec(key);
const text = (u: Uint8Array | null | undefined): string => new TextDecoder().decode(u ?? new Uint8Array());
const secret = { asset: 'marts/customer_ltv', config: { apiToken: 'tok-9f3a61c2', threshold: 0.75 } };

function bytesOf(p: Payload): Buffer {
  return Buffer.from(proto.temporal.api.common.v1.Payload.encode(p).finish());
}

describe('the AES-GCM payload codec', () => {
  test('decoding an encoded payload gives back the same payload, whatever its encoding', async () => {
    const originals = [defaultPayloadConverter.toPayload(secret), defaultPayloadConverter.toPayload(undefined), defaultPayloadConverter.toPayload(new Uint8Array([0, 1, 2, 255])), { metadata: {}, data: new Uint8Array() }];
    const decoded = await codec.decode(await codec.encode(originals));
    assert.equal(decoded.length, originals.length);
    decoded.forEach((d, i) => assert.deepEqual(bytesOf(d), bytesOf(originals[i] as Payload)));
    assert.deepEqual(defaultPayloadConverter.fromPayload(decoded[0] as Payload), secret);
  });

  test('an encoded payload is marked binary/encrypted with the key id, and holds none of the plaintext', async () => {
    const original = defaultPayloadConverter.toPayload(secret);
    const [encoded] = (await codec.encode([original])) as [Payload];
    assert.equal(text(encoded.metadata?.encoding), ENCRYPTED_ENCODING);
    assert.equal(text(encoded.metadata?.['encryption-key-id']), codec.keyId);
    assert.notDeepEqual(Buffer.from(encoded.data ?? []), Buffer.from(original.data ?? []));
    const raw = bytesOf(encoded);
    for (const needle of ['marts/customer_ltv', 'tok-9f3a61c2', 'json/plain', '0.75']) assert.equal(raw.includes(needle), false, `'${needle}' is visible in the encrypted payload`);
    // 12-byte IV + serialized payload + 16-byte tag: GCM adds no padding.
    assert.equal(encoded.data?.length, 12 + bytesOf(original).length + 16);
  });

  test('the same payload encrypts differently each time (a fresh IV per payload)', async () => {
    const p = defaultPayloadConverter.toPayload(secret);
    const [a, b] = (await codec.encode([p, p])) as [Payload, Payload];
    assert.notDeepEqual(Buffer.from(a.data ?? []), Buffer.from(b.data ?? []));
  });

  test('payloads that are not encrypted pass through decode untouched', async () => {
    const plain = [defaultPayloadConverter.toPayload(secret), defaultPayloadConverter.toPayload(null)];
    const decoded = await codec.decode(plain);
    assert.equal(decoded[0], plain[0]);
    assert.equal(decoded[1], plain[1]);
  });

  test('a payload encrypted with another key fails naming both key ids', async () => {
    const other = new AesGcmPayloadCodec(randomBytes(32));
    const encoded = await other.encode([defaultPayloadConverter.toPayload(secret)]);
    await assert.rejects(codec.decode(encoded), (err: Error) => {
      assert.ok(err instanceof EncryptionError);
      assert.match(err.message, new RegExp(`encrypted with key id ${other.keyId}, but CAIRN_ENCRYPTION_KEY has key id ${codec.keyId}`));
      assert.match(err.message, /CAIRN_ENCRYPTION_KEY does not match the key that encrypted the payload/);
      return true;
    });
  });

  test('an altered ciphertext fails authentication with a clear error instead of decoding to garbage', async () => {
    const [encoded] = (await codec.encode([defaultPayloadConverter.toPayload(secret)])) as [Payload];
    const data = Buffer.from(encoded.data ?? []);
    data[20] = (data[20] ?? 0) ^ 1;
    await assert.rejects(codec.decode([{ ...encoded, data }]), /failed authentication: it was altered or truncated/);
    await assert.rejects(codec.decode([{ ...encoded, data: data.subarray(0, 10) }]), /has 10 bytes, fewer than an IV and an authentication tag/);
  });

  test('without a key, an encrypted payload fails saying the key is not set, and plain payloads pass', async () => {
    const guard = new MissingKeyCodec();
    const encoded = await codec.encode([defaultPayloadConverter.toPayload(secret)]);
    await assert.rejects(guard.decode(encoded), new RegExp(`encrypted \\(key id ${codec.keyId}\\), but CAIRN_ENCRYPTION_KEY is not set`));
    const plain = [defaultPayloadConverter.toPayload(secret)];
    assert.deepEqual(await guard.decode(await guard.encode(plain)), plain);
  });
});

describe('CAIRN_ENCRYPTION_KEY', () => {
  test('base64 (as openssl rand -base64 32 prints it), unpadded base64, base64url and hex all read as the same key', () => {
    const b64 = key.toString('base64');
    for (const form of [b64, `${b64}\n`, b64.replace(/=+$/, ''), key.toString('base64url'), key.toString('hex'), key.toString('hex').toUpperCase()]) {
      assert.deepEqual(parseEncryptionKey(form), key, `form ${JSON.stringify(form)}`);
    }
  });

  test('a key of the wrong length or alphabet is refused with the expected format and how to make one, without repeating it', () => {
    const cases: [string, RegExp][] = [
      [randomBytes(16).toString('base64'), /24 characters that decode to 16 bytes/],
      [randomBytes(48).toString('base64'), /decode to 48 bytes/],
      ['correct horse battery staple', /not all of them base64 or hex/],
      ['   ', /it is empty/],
    ];
    for (const [value, why] of cases) {
      assert.throws(() => parseEncryptionKey(value), (err: Error) => {
        assert.ok(err instanceof EncryptionError);
        assert.match(err.message, /CAIRN_ENCRYPTION_KEY must be a 32-byte key written as base64 \(44 characters\), base64url or hex \(64 characters\)/);
        assert.match(err.message, /openssl rand -base64 32/);
        assert.match(err.message, why);
        if (value.trim()) assert.equal(err.message.includes(value.trim()), false, 'the message repeats the key');
        return true;
      });
    }
  });

  test('the key id is a short hash that does not contain the key', () => {
    const id = encryptionKeyId(key);
    assert.match(id, /^[0-9a-f]{12}$/);
    assert.equal(id, codec.keyId);
    assert.notEqual(id, encryptionKeyId(randomBytes(32)));
    assert.equal(key.toString('hex').includes(id), false);
  });
});

describe('cairnDataConverter', () => {
  test('with a key, failure messages and stack traces are encrypted too', async () => {
    const converter = loadDataConverter(cairnDataConverter({ CAIRN_ENCRYPTION_KEY: key.toString('base64') }));
    const failure = await encodeErrorToFailure(converter, ApplicationFailure.create({ message: 'could not read marts/customer_ltv with tok-9f3a61c2', type: 'STEP_FAILED' }));
    assert.equal(failure.message, 'Encoded failure');
    assert.equal(failure.stackTrace, '');
    assert.equal(text(failure.encodedAttributes?.metadata?.encoding), ENCRYPTED_ENCODING);
    const raw = Buffer.from(proto.temporal.api.failure.v1.Failure.encode(failure).finish());
    assert.equal(raw.includes('tok-9f3a61c2'), false);
    const back = await decodeOptionalFailureToOptionalError(converter, failure);
    assert.equal(back?.message, 'could not read marts/customer_ltv with tok-9f3a61c2');
  });

  test('without a key, payloads stay plain but an encrypted one fails clearly', async () => {
    const converter = loadDataConverter(cairnDataConverter({}));
    assert.equal(converter.payloadCodecs.length, 1);
    assert.deepEqual(await converter.payloadCodecs[0]?.encode([defaultPayloadConverter.toPayload(secret)]), [defaultPayloadConverter.toPayload(secret)]);
    await assert.rejects(converter.payloadCodecs[0]!.decode(await codec.encode([defaultPayloadConverter.toPayload(1)])), /CAIRN_ENCRYPTION_KEY is not set/);
  });

  test('a malformed key fails when the converter is made, before anything connects', () => {
    assert.throws(() => cairnDataConverter({ CAIRN_ENCRYPTION_KEY: 'not-a-key' }), /CAIRN_ENCRYPTION_KEY must be a 32-byte key/);
  });
});
