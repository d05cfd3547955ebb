/**
 * Data contracts: `asset({ schema: z.object(...) })` validates the asset's output rows before they are stored.
 * The validator is fed batch by batch, so a streamed output is checked as it passes, and it stops the write at
 * the end of the first batch with a violation, reporting the first few with row number, field path and zod's
 * message.
 */
import type { z } from 'zod';
import { CairnError, ErrorCodes } from './errors';
import type { Row } from './stored-value';

/** One row that broke the contract. `row` is the 0-based position in the output. */
export interface ContractViolation {
  row: number;
  path: string;
  message: string;
}

/** How many violations a report lists. */
export const MAX_REPORTED_VIOLATIONS = 10;

/** Why `schema` cannot be a contract (it must be a zod object), or undefined when it can. */
export function contractProblem(schema: unknown, assetKey: string): string | undefined {
  const def = (schema as { _zod?: { def?: { type?: unknown } } } | null)?._zod?.def;
  if (typeof schema !== 'object' || schema === null || typeof (schema as { safeParse?: unknown }).safeParse !== 'function' || def === undefined) {
    return `asset '${assetKey}': schema must be a zod object schema such as z.object({ id: z.number() }), got ${schema === null ? 'null' : typeof schema}`;
  }
  if (def.type !== 'object') return `asset '${assetKey}': schema must be a zod object schema (z.object({ ... })), got a zod ${String(def.type)}`;
  return undefined;
}

/** Why `sample` is not a valid fraction of rows to validate, or undefined. */
export function sampleProblem(sample: unknown, assetKey: string): string | undefined {
  if (sample === undefined) return undefined;
  if (typeof sample !== 'number' || !(sample > 0 && sample <= 1)) return `asset '${assetKey}': schemaSample must be a fraction of rows in (0, 1], such as 0.01, got ${JSON.stringify(sample)}`;
  return undefined;
}

/** Human text for a value's type: `a string`, `null`, `an array`. */
function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  const t = typeof v;
  return t === 'object' ? 'an object' : `a ${t}`;
}

function isRowObject(v: unknown): v is Row {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Validates rows against a contract. `sample` (a fraction in (0, 1]) validates every n-th row only (n =
 * round(1 / sample)), always starting with the first; the other rows are still checked to be objects.
 */
export class ContractValidator {
  private rows = 0;
  private readonly stride: number;
  readonly violations: ContractViolation[] = [];

  constructor(
    private readonly assetKey: string,
    private readonly schema: z.ZodType,
    sample?: number,
  ) {
    this.stride = sample === undefined ? 1 : Math.max(1, Math.round(1 / sample));
  }

  /** Rows validated so far (sampled ones) and seen so far. */
  get seen(): number {
    return this.rows;
  }

  /** Validates one batch; throws {@link ContractViolationError} at the end of a batch with violations. */
  checkBatch(batch: readonly unknown[]): void {
    for (const row of batch) {
      const n = this.rows++;
      if (this.violations.length >= MAX_REPORTED_VIOLATIONS) continue;
      if (!isRowObject(row)) {
        this.violations.push({ row: n, path: '(row)', message: `the row is ${describe(row)}, not an object` });
        continue;
      }
      if (n % this.stride !== 0) continue;
      const result = this.schema.safeParse(row);
      if (result.success) continue;
      for (const issue of result.error.issues) {
        if (this.violations.length >= MAX_REPORTED_VIOLATIONS) break;
        this.violations.push({ row: n, path: issue.path.map(String).join('.') || '(row)', message: issue.message });
      }
    }
    if (this.violations.length > 0) throw new ContractViolationError(this.assetKey, this.violations, this.rows);
  }
}

/** The output broke its asset's contract; nothing was stored. Not retryable: the same code writes the same rows. */
export class ContractViolationError extends CairnError {
  override readonly name = 'ContractViolationError';
  constructor(
    assetKey: string,
    readonly violations: readonly ContractViolation[],
    rowsRead: number,
  ) {
    const lines = violations.map((v) => `  row ${v.row}, field '${v.path}': ${v.message}`);
    super(
      ErrorCodes.ContractViolation,
      `asset '${assetKey}': the output breaks its schema (first ${violations.length} violation${violations.length === 1 ? '' : 's'} ` +
        `in the first ${rowsRead} rows; rows are numbered from 0); nothing was stored:\n${lines.join('\n')}`,
      assetKey,
    );
  }
}

/** Wraps an output of row batches so each batch is validated before the IO manager stores it. */
export async function* validatedBatches(batches: Iterable<unknown> | AsyncIterable<unknown>, validator: ContractValidator): AsyncGenerator<unknown> {
  for await (const batch of batches) {
    if (Array.isArray(batch)) validator.checkBatch(batch);
    yield batch;
  }
}
