import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { Command } from 'commander';
import pc from 'picocolors';
import { EncryptionError, ENCRYPTION_KEY_ENV, encryptionCodecFromEnv } from '../client/encryption';
import type { GlobalOptions } from './context';
import { CliExit, Exit } from './errors';

/** The Web UI of `cairn dev` / `temporal server start-dev`, under both names a browser may use for it. */
export const DEFAULT_UI_ORIGINS = ['http://localhost:8233', 'http://127.0.0.1:8233'];
/** Far above what the Web UI sends at once (a page of history), small enough that a stray upload cannot exhaust memory. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** A request the server answers with a status and a JSON `{ error }`, not a stack trace. */
class BadRequest extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function base64(value: unknown, where: string): Uint8Array {
  if (typeof value !== 'string' || !BASE64.test(value)) throw new BadRequest(400, `${where} must be a base64 string`);
  return Buffer.from(value, 'base64');
}

/** Temporal's JSON form of `Payloads` (proto3 JSON: bytes as base64, empty fields may be left out) to payloads. */
export function payloadsFromJson(body: unknown): Payload[] {
  const list = (body as { payloads?: unknown } | null)?.payloads;
  if (typeof body !== 'object' || body === null || !Array.isArray(list)) throw new BadRequest(400, 'the body must be a JSON object {"payloads": [{"metadata": {"<name>": "<base64>"}, "data": "<base64>"}]}');
  return list.map((p: unknown, i) => {
    if (typeof p !== 'object' || p === null) throw new BadRequest(400, `payloads[${i}] must be an object with metadata and data`);
    const { metadata = {}, data = '' } = p as { metadata?: unknown; data?: unknown };
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) throw new BadRequest(400, `payloads[${i}].metadata must be an object of base64 strings`);
    return {
      metadata: Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, base64(v, `payloads[${i}].metadata.${k}`)])),
      data: base64(data, `payloads[${i}].data`),
    };
  });
}

export function payloadsToJson(payloads: Payload[]): { payloads: { metadata: Record<string, string>; data: string }[] } {
  const b64 = (u: Uint8Array | null | undefined): string => Buffer.from(u ?? new Uint8Array()).toString('base64');
  return { payloads: payloads.map((p) => ({ metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, b64(v)])), data: b64(p.data) })) };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BadRequest(413, `the body is larger than ${MAX_BODY_BYTES / 1024 / 1024} MiB`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Temporal's remote codec protocol over HTTP: `POST /encode` and `POST /decode` take and return
 * `{"payloads": [...]}`. Browsers get CORS headers (with credentials) only for `origins`; a request from any
 * other page is refused, since this server decrypts whatever it is sent.
 */
export function createCodecServer(codec: PayloadCodec, origins: readonly string[]): Server {
  const allowed = new Set(origins);
  return createServer((req, res) => void handle(req, res));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const send = (status: number, body?: unknown): void => {
      res.writeHead(status, body === undefined ? {} : { 'Content-Type': 'application/json' });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    try {
      const origin = req.headers.origin;
      res.setHeader('Vary', 'Origin');
      if (origin !== undefined) {
        if (!allowed.has(origin)) throw new BadRequest(403, `origin ${origin} may not use this codec server; if it is your Temporal Web UI, restart the codec server with --origin ${origin}`);
        res.setHeader('Access-Control-Allow-Origin', origin);
        res.setHeader('Access-Control-Allow-Credentials', 'true');
      }
      const path = (req.url ?? '/').split('?')[0];
      const op = path === '/encode' ? 'encode' : path === '/decode' ? 'decode' : undefined;
      if (!op) throw new BadRequest(404, `no such endpoint ${path}; the codec endpoints are POST /encode and POST /decode`);
      if (req.method === 'OPTIONS') {
        res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
        res.setHeader('Access-Control-Allow-Headers', 'Content-Type, X-Namespace');
        res.setHeader('Access-Control-Max-Age', '600');
        return send(204);
      }
      if (req.method !== 'POST') {
        res.setHeader('Allow', 'POST, OPTIONS');
        throw new BadRequest(405, `${path} takes POST, not ${req.method}`);
      }
      let body: unknown;
      try {
        body = JSON.parse(await readBody(req));
      } catch (err) {
        if (err instanceof BadRequest) throw err;
        throw new BadRequest(400, `the body is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
      }
      const payloads = payloadsFromJson(body);
      send(200, payloadsToJson(op === 'encode' ? await codec.encode(payloads) : await codec.decode(payloads)));
    } catch (err) {
      if (err instanceof BadRequest) send(err.status, { error: err.message });
      else if (err instanceof EncryptionError) send(400, { error: err.message });
      else send(500, { error: err instanceof Error ? err.message : String(err) });
    }
  }
}

function parsePort(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 65535) throw new CliExit(Exit.badInput, `--port must be a whole number from 0 to 65535 (0 picks a free port), got '${text}'`);
  return n;
}

function parseOrigin(text: string, previous: string[] | undefined): string[] {
  let origin: string;
  try {
    origin = new URL(text).origin;
  } catch {
    throw new CliExit(Exit.badInput, `--origin must be the Web UI's address such as http://localhost:8233, got '${text}'`);
  }
  return [...(previous ?? []), origin];
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** `cairn codec-server`: decrypts payloads for the Temporal Web UI (and encrypts what it sends), until Ctrl-C. */
export function registerCodecServer(program: Command, _globals: () => GlobalOptions): void {
  program
    .command('codec-server')
    .description(`serve the encryption codec (${ENCRYPTION_KEY_ENV}) to the Temporal Web UI, until interrupted`)
    .option('--port <n>', 'port to listen on (0 picks a free one)', '8888')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--origin <url>', `a Web UI origin allowed to call it; repeat for several (default: ${DEFAULT_UI_ORIGINS.join(', ')})`, parseOrigin)
    .action(async (opts: { port: string; host: string; origin?: string[] }) => {
      const port = parsePort(opts.port);
      const codec = encryptionCodecFromEnv();
      if (!codec) throw new CliExit(Exit.badInput, `${ENCRYPTION_KEY_ENV} is not set: the codec server needs the key the Cairn workers use (make a new one with \`openssl rand -base64 32\`)`);
      const origins = opts.origin ?? DEFAULT_UI_ORIGINS;
      const server = createCodecServer(codec, origins);
      await new Promise<void>((resolve, reject) => {
        server.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE' ? new CliExit(Exit.runFailed, `port ${port} on ${opts.host} is in use; pick another with --port`) : err));
        server.listen(port, opts.host, resolve);
      });
      const addr = server.address() as AddressInfo;
      const url = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
      const say = (l: string): void => void process.stdout.write(`${pc.dim('cairn')} ${l}\n`);
      say(`codec server for key id ${codec.keyId} listening at ${pc.underline(url)} (Web UI origins: ${origins.join(', ')})`);
      say(`paste ${url} into the Web UI's Codec Server setting, or start the dev server with \`temporal server start-dev --ui-codec-endpoint ${url}\``);
      if (!LOOPBACK.has(opts.host)) say(pc.yellow(`warning: ${opts.host} is not a loopback address; anyone who can reach this port can decrypt payloads`));
      await new Promise<void>((resolve) => {
        const onSignal = (): void => {
          server.closeAllConnections();
          server.close(() => resolve());
        };
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
      });
    });
}
