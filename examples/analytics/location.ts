/**
 * The analytics code location: staging and mart models in DuckDB SQL (nothing passes through Node), a
 * TypeScript processing step (a score computed in code), and a downstream notification. Its assets depend
 * on the ingestion location's: one graph across code locations.
 */
import { z } from 'zod';
import { asset, codeLocation, duckdb, notNull, unique, type TableInput } from 'cairn';

const warehouse = duckdb();

export const stagingOrders = asset({
  key: 'staging/orders',
  group: 'staging',
  kinds: ['duckdb', 'sql'],
  ins: { orders: 'raw/shop/orders' },
  resources: ['warehouse'],
  // Bump when the SQL changes: `cairn status` then shows it (and its downstream) as stale.
  codeVersion: '1',
  description: 'Paid orders only, with the order day.',
  materialize: ({ ins }) => warehouse.sql`
    select order_id, customer_id, amount, cast(ordered_at as date) as order_day
    from ${ins.orders as TableInput}
    where status = ${'paid'}`,
});

export const stagingCustomers = asset({
  key: 'staging/customers',
  group: 'staging',
  kinds: ['duckdb', 'sql'],
  ins: { customers: 'raw/shop/customers' },
  resources: ['warehouse'],
  codeVersion: '1',
  checks: [unique('customer_id', { blocking: true }), notNull('region')],
  materialize: ({ ins }) => warehouse.sql`select customer_id, name, upper(region) as region from ${ins.customers as TableInput}`,
});

export const customerRevenue = asset({
  key: 'marts/customer_revenue',
  freshness: { maxLag: '1d', warnLag: '12h' },
  group: 'marts',
  kinds: ['duckdb', 'sql'],
  owners: ['team:analytics'],
  ins: { orders: 'staging/orders', customers: 'staging/customers' },
  resources: ['warehouse'],
  codeVersion: '1',
  description: 'Revenue and order count per customer.',
  materialize: ({ ins }) => warehouse.sql`
    select c.customer_id, c.name, c.region, count(o.order_id) as orders, coalesce(sum(o.amount), 0) as revenue
    from ${ins.customers as TableInput} c left join ${ins.orders as TableInput} o using (customer_id)
    group by all order by c.customer_id`,
});

export const customerScores = asset({
  key: 'ml/customer_scores',
  group: 'ml',
  kinds: ['typescript'],
  owners: ['team:ml'],
  ins: { revenue: { asset: 'marts/customer_revenue', load: 'rows' } },
  config: z.object({ revenueWeight: z.number().min(0).max(1).default(0.7) }),
  codeVersion: '2',
  description: 'A churn-risk style score computed in TypeScript from the revenue mart.',
  materialize({ ins, config, log, addMetadata }) {
    const rows = ins.revenue as { customer_id: number; revenue: number; orders: number }[];
    const maxRevenue = Math.max(1, ...rows.map((r) => r.revenue));
    const maxOrders = Math.max(1, ...rows.map((r) => r.orders));
    const w = config.revenueWeight;
    const scored = rows.map((r) => ({ customer_id: r.customer_id, score: Number((w * (r.revenue / maxRevenue) + (1 - w) * (r.orders / maxOrders)).toFixed(4)) }));
    const mean = scored.reduce((s, r) => s + r.score, 0) / Math.max(1, scored.length);
    log.info(`scored ${scored.length} customers, mean score ${mean.toFixed(3)}`);
    addMetadata({ meanScore: Number(mean.toFixed(4)) });
    return scored;
  },
});

export const revenueDigest = asset({
  key: 'notify/revenue_digest',
  group: 'notify',
  kinds: ['notification'],
  ins: { scores: { asset: 'ml/customer_scores', load: 'rows' }, revenue: 'marts/customer_revenue' },
  resources: ['warehouse'],
  description: 'Posts a digest downstream (logged here; a Slack webhook in production).',
  async materialize({ ins, log, addMetadata }) {
    const [totals] = await warehouse.query<{ revenue: number; customers: number }>(warehouse.sql`select sum(revenue) as revenue, count(*) as customers from ${ins.revenue as TableInput}`);
    const top = (ins.scores as { customer_id: number; score: number }[]).sort((a, b) => b.score - a.score).slice(0, 3);
    const text = `Revenue ${totals?.revenue ?? 0} across ${totals?.customers ?? 0} customers; top scores: ${top.map((t) => `#${t.customer_id} ${t.score}`).join(', ')}`;
    log.info(text);
    addMetadata({ message: text });
  },
});

export default codeLocation({
  name: 'analytics',
  assets: [stagingOrders, stagingCustomers, customerRevenue, customerScores, revenueDigest],
  resources: { warehouse },
});
