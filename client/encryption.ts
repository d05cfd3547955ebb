/**
 * Payload encryption: an AES-256-GCM `PayloadCodec` keyed by `CAIRN_ENCRYPTION_KEY`, used by every Temporal
 * client and worker Cairn creates and by `cairn codec-server`. Codecs run outside the workflow sandbox, so the
 * workflow bundle does not change. See docs/encryption.md.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { METADATA_ENCODING_KEY, type DataConverter, type Payload, type PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';
import { CairnError, ErrorCodes } from '../definitions/errors';

/** The environment variable that holds the key. */
export const ENCRYPTION_KEY_ENV = 'CAIRN_ENCRYPTION_KEY';
/** The `encoding` metadata of an encrypted payload. */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** Metadata naming the key that encrypted a payload: a hash of it, so a mismatch can be reported without the key. */
export const KEY_ID_METADATA = 'encryption-key-id';
/** Metadata naming the cipher, so a later format can tell old payloads apart. */
export const CIPHER_METADATA = 'encryption-cipher';
const CIPHER = 'AES-256-GCM';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const HOW_TO_MAKE_A_KEY = 'make one with `openssl rand -base64 32`';

const ProtoPayload = proto.temporal.api.common.v1.Payload;
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** A key that does not parse, or a payload that this process cannot decrypt. */
export class EncryptionError extends CairnError {
  override readonly name = 'EncryptionError';
  constructor(message: string) {
    super(ErrorCodes.InvalidArgument, message, ENCRYPTION_KEY_ENV);
  }
}

/**
 * Reads a 32-byte key written as base64 (what `openssl rand -base64 32` prints), base64url or hex. The error
 * never repeats the value: it is a secret, and it may be a real key pasted into the wrong variable.
 */
export function parseEncryptionKey(text: string, source = ENCRYPTION_KEY_ENV): Buffer {
  const s = text.trim();
  let key: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(s)) key = Buffer.from(s, 'hex');
  else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(s)) key = Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (key?.length === KEY_BYTES) return key;
  const got = s.length === 0 ? 'it is empty' : key ? `it has ${s.length} characters that decode to ${key.length} bytes` : `it has ${s.length} characters, not all of them base64 or hex`;
  throw new EncryptionError(`${source} must be a 32-byte key written as base64 (44 characters), base64url or hex (64 characters), but ${got}; ${HOW_TO_MAKE_A_KEY}`);
}

/** A short public name for a key: the first 12 hex digits of a SHA-256 over it (never the key itself). */
export function encryptionKeyId(key: Uint8Array): string {
  return createHash('sha256').update('cairn encryption key id\0').update(key).digest('hex').slice(0, 12);
}

function metadataText(p: Payload, name: string): string | undefined {
  const v = p.metadata?.[name];
  return v ? fromUtf8.decode(v) : undefined;
}

/** True for a payload this codec (with any key) produced. */
export function isEncryptedPayload(p: Payload): boolean {
  return metadataText(p, METADATA_ENCODING_KEY) === ENCRYPTED_ENCODING;
}

/** The key id an encrypted payload names, if any. */
export function payloadKeyId(p: Payload): string | undefined {
  return metadataText(p, KEY_ID_METADATA);
}

/**
 * Encrypts each whole payload (its metadata too, so the original encoding and type hints are hidden) with
 * AES-256-GCM and a fresh random 96-bit IV. The encrypted payload's data is IV || ciphertext || tag of the
 * serialized `temporal.api.common.v1.Payload`. Decoding passes through payloads that are not encrypted, so
 * histories written before the key was set stay readable.
 */
export class AesGcmPayloadCodec implements PayloadCodec {
  readonly keyId: string;
  readonly #key: Buffer;

  constructor(key: Uint8Array) {
    if (key.length !== KEY_BYTES) throw new EncryptionError(`an AES-256-GCM key is ${KEY_BYTES} bytes, got ${key.length}; ${HOW_TO_MAKE_A_KEY}`);
    this.#key = Buffer.from(key);
    this.keyId = encryptionKeyId(this.#key);
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => this.encryptOne(p));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => (isEncryptedPayload(p) ? this.decryptOne(p) : p));
  }

  private encryptOne(p: Payload): Payload {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const body = Buffer.concat([cipher.update(ProtoPayload.encode(p).finish()), cipher.final()]);
    return {
      metadata: { [METADATA_ENCODING_KEY]: utf8.encode(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8.encode(this.keyId), [CIPHER_METADATA]: utf8.encode(CIPHER) },
      data: Buffer.concat([iv, body, cipher.getAuthTag()]),
    };
  }

  private decryptOne(p: Payload): Payload {
    const keyId = payloadKeyId(p);
    if (keyId !== undefined && keyId !== this.keyId) {
      throw new EncryptionError(`a payload was encrypted with key id ${keyId}, but ${ENCRYPTION_KEY_ENV} has key id ${this.keyId}: ${ENCRYPTION_KEY_ENV} does not match the key that encrypted the payload; every Cairn client, worker and codec server must use the same key (key ids are hashes of keys, never the keys)`);
    }
    const cipher = metadataText(p, CIPHER_METADATA);
    if (cipher !== undefined && cipher !== CIPHER) throw new EncryptionError(`a payload was encrypted with ${cipher}, which this version of Cairn cannot decrypt (it knows ${CIPHER})`);
    const data = Buffer.from(p.data ?? new Uint8Array());
    if (data.length < IV_BYTES + TAG_BYTES) throw new EncryptionError(`an encrypted payload (key id ${keyId ?? 'none'}) has ${data.length} bytes, fewer than an IV and an authentication tag: it was truncated`);
    const decipher = createDecipheriv('aes-256-gcm', this.#key, data.subarray(0, IV_BYTES));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new EncryptionError(`an encrypted payload (key id ${keyId ?? 'none'}) failed authentication: it was altered or truncated${keyId === undefined ? `, or ${ENCRYPTION_KEY_ENV} is not the key that encrypted it` : ''}`);
    }
    return ProtoPayload.decode(plain);
  }
}

/**
 * What a process without a key uses: payloads go out unencrypted, and an encrypted payload coming back fails
 * with a message that says to set the key (rather than the SDK's "Unknown encoding").
 */
export class MissingKeyCodec implements PayloadCodec {
  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads;
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    for (const p of payloads) {
      if (isEncryptedPayload(p)) throw new EncryptionError(`a payload is encrypted (key id ${payloadKeyId(p) ?? 'none'}), but ${ENCRYPTION_KEY_ENV} is not set in this process; set it to the key the other Cairn clients and workers use`);
    }
    return payloads;
  }
}

/** The codec for `CAIRN_ENCRYPTION_KEY`, or undefined when it is unset or empty; a malformed key throws. */
export function encryptionCodecFromEnv(env: NodeJS.ProcessEnv = process.env): AesGcmPayloadCodec | undefined {
  const raw = env[ENCRYPTION_KEY_ENV];
  if (raw === undefined || raw.trim() === '') return undefined;
  return new AesGcmPayloadCodec(parseEncryptionKey(raw));
}

/**
 * A module with a `failureConverter` export that moves failure messages and stack traces into a payload, where
 * the codec encrypts them. The SDK loads it with `require()` from a path (`DataConverter` takes no instance),
 * so it is a CommonJS file rather than TypeScript.
 */
export const ENCRYPTED_FAILURE_CONVERTER_PATH = fileURLToPath(new URL('./encrypted-failure-converter.cjs', import.meta.url));

/**
 * The data converter for every Temporal client and worker of Cairn. With `CAIRN_ENCRYPTION_KEY` set, payloads
 * are encrypted, and so are the messages and stack traces of failures raised outside the workflow sandbox
 * (activity failures). Without it, payloads stay plain but an encrypted one fails with a clear error.
 */
export function cairnDataConverter(env: NodeJS.ProcessEnv = process.env): DataConverter {
  const codec = encryptionCodecFromEnv(env);
  if (!codec) return { payloadCodecs: [new MissingKeyCodec()] };
  return { payloadCodecs: [codec], failureConverterPath: ENCRYPTED_FAILURE_CONVERTER_PATH };
}
