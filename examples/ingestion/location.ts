/**
 * The ingestion code location: where raw data lands. In production these tables come from Fivetran,
 * Airbyte, Sling or dlt; here one is declared external (tracked, never produced by Cairn) and two small
 * assets land deterministic sample rows so the demo runs anywhere.
 */
import { z } from 'zod';
import { acceptedValues, asset, codeLocation, duckdb, externalAsset, rowCountAtLeast, unique } from 'cairn';

export const crmAccounts = externalAsset({
  key: 'raw/crm/accounts',
  // Fivetran syncs it every morning; report syncs with `cairn report materialization raw/crm/accounts`.
  freshness: { cron: '0 6 * * *', maxLag: '6h', timezone: 'UTC' },
  group: 'ingestion',
  kinds: ['fivetran'],
  description: 'CRM accounts synced by Fivetran; Cairn tracks it but does not produce it.',
});

const REGIONS = ['emea', 'amer', 'apac'] as const;

export const customers = asset({
  key: 'raw/shop/customers',
  group: 'ingestion',
  kinds: ['duckdb'],
  owners: ['team:data-platform'],
  description: 'Sample customers landed as rows from TypeScript.',
  codeVersion: '1',
  materialize({ log }) {
    const rows = Array.from({ length: 40 }, (_, i) => ({
      customer_id: i + 1,
      name: `customer ${i + 1}`,
      region: REGIONS[i % REGIONS.length],
      signed_up: new Date(Date.UTC(2024, 0, 1 + i)).toISOString().slice(0, 10),
    }));
    log.info(`landing ${rows.length} customers`);
    return rows;
  },
});

export const orders = asset({
  key: 'raw/shop/orders',
  group: 'ingestion',
  kinds: ['duckdb'],
  owners: ['team:data-platform'],
  description: 'Sample orders, landed in batches as an async iterable (never held whole in memory).',
  codeVersion: '1',
  // A data contract: every row is validated as its batch streams in, before anything is stored.
  schema: z.object({
    order_id: z.number().int().positive(),
    customer_id: z.number().int(),
    amount: z.number().nonnegative(),
    status: z.enum(['paid', 'refunded']),
    ordered_at: z.iso.datetime(),
  }),
  // Run against the staged table; a failed blocking check keeps it from being published.
  checks: [rowCountAtLeast(1, { blocking: true }), unique('order_id', { blocking: true }), acceptedValues('status', ['paid', 'refunded'])],
  async *materialize({ log }) {
    let id = 0;
    for (let batch = 0; batch < 4; batch++) {
      const rows = Array.from({ length: 250 }, () => {
        id++;
        return {
          order_id: id,
          customer_id: ((id * 7) % 40) + 1,
          amount: Math.round(((id * 37) % 500) + 5) / 1,
          status: id % 11 === 0 ? 'refunded' : 'paid',
          ordered_at: new Date(Date.UTC(2024, 2, 1 + (id % 60))).toISOString(),
        };
      });
      log.info(`batch ${batch + 1}: ${rows.length} orders`);
      yield rows;
    }
  },
});

export default codeLocation({
  name: 'ingestion',
  assets: [crmAccounts, customers, orders],
  resources: { warehouse: duckdb() },
});
