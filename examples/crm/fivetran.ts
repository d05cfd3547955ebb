/**
 * A small Fivetran REST client as a Cairn resource, for the crm example's sensor: it reads a connection's sync
 * state (`GET /v1/connections/{id}`, Basic auth with the API key and secret). The key and secret come from the
 * worker's environment through `env()`, so they never reach a snapshot, a workflow or the catalog.
 */
import { z } from 'zod';
import { resource } from 'cairn';

/** What the sensor needs of `GET /v1/connections/{id}`. */
export interface ConnectionState {
  id: string;
  paused: boolean;
  setupState: string;
  syncState: string;
  succeededAt?: string;
  failedAt?: string;
}

export interface FivetranClient {
  /** False when the example runs without FIVETRAN_API_URL: the sensor then skips with a reason. */
  readonly configured: boolean;
  connection(id: string): Promise<ConnectionState>;
}

const ConnectionResponse = z.object({
  data: z.object({
    id: z.string(),
    paused: z.boolean().optional(),
    succeeded_at: z.string().nullish(),
    failed_at: z.string().nullish(),
    status: z.object({ setup_state: z.string(), sync_state: z.string() }),
  }),
});

export const fivetran = resource({
  type: 'fivetran',
  config: z.object({ baseUrl: z.url().optional(), apiKey: z.string().optional(), apiSecret: z.string().optional() }),
  create(config): FivetranClient {
    const { baseUrl, apiKey, apiSecret } = config;
    if (!baseUrl) return { configured: false, connection: () => Promise.reject(new Error('Fivetran is not configured: set FIVETRAN_API_URL, FIVETRAN_API_KEY and FIVETRAN_API_SECRET')) };
    const auth = `Basic ${Buffer.from(`${apiKey ?? ''}:${apiSecret ?? ''}`).toString('base64')}`;
    return {
      configured: true,
      async connection(id) {
        const res = await fetch(`${baseUrl.replace(/\/$/, '')}/v1/connections/${encodeURIComponent(id)}`, { headers: { Authorization: auth, Accept: 'application/json' }, signal: AbortSignal.timeout(10_000) });
        const body: unknown = await res.json().catch(() => undefined);
        if (!res.ok) {
          const message = (body as { message?: string } | undefined)?.message ?? res.statusText;
          throw new Error(`Fivetran GET /v1/connections/${id} answered ${res.status}: ${message}`);
        }
        const parsed = ConnectionResponse.safeParse(body);
        if (!parsed.success) throw new Error(`Fivetran GET /v1/connections/${id}: unexpected response (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message})`);
        const d = parsed.data.data;
        return {
          id: d.id, paused: d.paused ?? false, setupState: d.status.setup_state, syncState: d.status.sync_state,
          ...(d.succeeded_at ? { succeededAt: d.succeeded_at } : {}), ...(d.failed_at ? { failedAt: d.failed_at } : {}),
        };
      },
    };
  },
});
