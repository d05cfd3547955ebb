/**
 * Redaction of resolved secrets from what a worker writes out: step logs, metadata, error messages. It runs on
 * every log line, so each redactor compiles its secrets into one RegExp once.
 */

/** Replaces every occurrence of the worker's secrets with {@link REDACTED}. */
export interface Redactor {
  /** Whether there is anything to redact (false for {@link noRedaction}). */
  readonly active: boolean;
  /** `s` with each secret replaced. */
  text(s: string): string;
  /**
   * `v` with each secret replaced in every string (and object key) of its plain objects and arrays. Returns
   * `v` itself when nothing changed, else a copy; other objects (class instances, dates) are kept as they are.
   */
  value<T>(v: T): T;
}

export const REDACTED = '***';

/**
 * Shorter secrets are not redacted: a value of one to three characters ('eu', '443', 'on') occurs all over
 * ordinary text, so redacting it would mangle logs, and the pattern of `***` in known text would give the
 * value away anyway. Such a value protects nothing as a secret; mark it `env('NAME', { secret: false })`.
 */
export const MIN_SECRET_LENGTH = 4;

/** A redactor that changes nothing. */
export const noRedaction: Redactor = Object.freeze({ active: false, text: (s: string) => s, value: <T>(v: T): T => v });

/**
 * A redactor for `secrets`. Besides each value as is, it matches the value as it appears inside a JSON string
 * and URL-encoded (a password in a connection URL), since text often reaches a log in those forms.
 * @example
 * const redact = createRedactor([process.env.STRIPE_KEY!]);
 * log.info(redact.text(`calling ${url}`));
 */
export function createRedactor(secrets: readonly string[]): Redactor {
  const forms = new Set<string>();
  for (const s of secrets) {
    if (typeof s !== 'string' || s.length < MIN_SECRET_LENGTH) continue;
    forms.add(s);
    forms.add(JSON.stringify(s).slice(1, -1));
    forms.add(encodeURIComponent(s));
  }
  if (forms.size === 0) return noRedaction;
  // Longest first: the alternation takes the first alternative that matches, so a secret that contains another
  // is replaced whole rather than leaving its remainder behind.
  const alternatives = [...forms].sort((a, b) => b.length - a.length || (a < b ? -1 : 1)).map(escapeRegExp);
  const pattern = new RegExp(alternatives.join('|'), 'g');
  const text = (s: string): string => s.replace(pattern, REDACTED);
  const value = <T>(v: T): T => redactValue(v, text, new WeakSet()) as T;
  return Object.freeze({ active: true, text, value });
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

function redactValue(v: unknown, text: (s: string) => string, inProgress: WeakSet<object>): unknown {
  if (typeof v === 'string') return text(v);
  if (typeof v !== 'object' || v === null || inProgress.has(v)) return v;
  if (Array.isArray(v)) {
    inProgress.add(v);
    let out: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const r = redactValue(v[i], text, inProgress);
      if (!out && !Object.is(r, v[i])) out = v.slice(0, i);
      if (out) out.push(r);
    }
    inProgress.delete(v);
    return out ?? v;
  }
  const proto = Object.getPrototypeOf(v) as object | null;
  if (proto !== Object.prototype && proto !== null) return v;
  inProgress.add(v);
  const entries = Object.entries(v);
  let changed = false;
  const next = entries.map(([k, x]): [string, unknown] => {
    const rk = text(k);
    const rx = redactValue(x, text, inProgress);
    if (rk !== k || !Object.is(rx, x)) changed = true;
    return [rk, rx];
  });
  inProgress.delete(v);
  // fromEntries defines keys as own properties, so a '__proto__' key stays data.
  return changed ? Object.fromEntries(next) : v;
}
