/**
 * How the JSON IO manager writes and reads its files. An array is written one element per line
 * (`[\n{…},\n{…}\n]\n`): still plain JSON, but rows can be streamed in and out a line at a time; any other value
 * is written indented. Values that JSON cannot hold are converted on the way in and not converted back:
 * bigint → decimal string, Date → ISO-8601 string (its `toJSON`), Uint8Array → base64 string; NaN and ±Infinity
 * become null and `undefined` properties are dropped, as `JSON.stringify` does.
 */
import { Buffer } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import type { Row } from '../../definitions/stored-value';
import { checkBatchSize, checkRows, chunkRows, describeValue } from './values';

function replacer(this: unknown, key: string, value: unknown): unknown {
  const raw = (this as Record<string, unknown>)[key];
  if (raw instanceof Uint8Array) return Buffer.from(raw).toString('base64');
  return typeof value === 'bigint' ? value.toString() : value;
}

/** One value as JSON text (indented unless `compact`); `where` names the asset in errors. */
export function toJsonText(value: unknown, where: string, compact = false): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value, replacer, compact ? undefined : 2);
  } catch (err) {
    throw new TypeError(`${where}: the value cannot be written as JSON: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  if (text === undefined) throw new TypeError(`${where}: ${describeValue(value)} is not a JSON value`);
  return text;
}

/** Writes an array a line per element, as it arrives; `close` ends the array, `abort` removes the file. */
export class JsonArrayWriter {
  private count = 0;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  /** Creates (or truncates) `path`, creating its folder. */
  static async open(path: string): Promise<JsonArrayWriter> {
    await mkdir(dirname(path), { recursive: true });
    const handle = await open(path, 'w');
    await handle.write('[');
    return new JsonArrayWriter(path, handle);
  }

  /** Elements written so far. */
  get written(): number {
    return this.count;
  }

  async write(elements: readonly unknown[], where: string): Promise<void> {
    if (elements.length === 0) return;
    let text = '';
    for (const element of elements) text += `${this.count++ === 0 ? '\n' : ',\n'}${toJsonText(element, where, true)}`;
    await this.handle.write(text);
  }

  async close(): Promise<void> {
    try {
      await this.handle.write('\n]\n');
      await this.handle.datasync();
    } finally {
      await this.handle.close();
    }
  }

  async abort(): Promise<void> {
    await this.handle.close().catch(() => undefined);
    await rm(this.path, { force: true });
  }
}

/** Writes one value to `path` (an array a line per element); returns the number of elements of an array. */
export async function writeJsonValue(path: string, value: unknown, where: string): Promise<number | undefined> {
  if (!Array.isArray(value)) {
    const text = toJsonText(value, where);
    await mkdir(dirname(path), { recursive: true });
    const handle = await open(path, 'w');
    try {
      await handle.writeFile(`${text}\n`, 'utf8');
      await handle.datasync();
    } finally {
      await handle.close();
    }
    return undefined;
  }
  const writer = await JsonArrayWriter.open(path);
  try {
    await writer.write(value, where);
    await writer.close();
    return value.length;
  } catch (err) {
    await writer.abort();
    throw err;
  }
}

/** The value a JSON file holds. */
export async function readJsonFile(path: string): Promise<unknown> {
  return JSON.parse(await readFile(path, 'utf8')) as unknown;
}

/**
 * The rows of a JSON file in batches of at most `size`, read a line at a time when the file has the layout
 * {@link JsonArrayWriter} writes, else parsed whole. Fails when the file does not hold an array of row objects.
 */
export async function* streamJsonRows(path: string, size: number, where: string): AsyncGenerator<Row[]> {
  checkBatchSize(size);
  const input = createReadStream(path, 'utf8');
  const lines = createInterface({ input, crlfDelay: Infinity });
  let state: 'start' | 'rows' | 'end' = 'start';
  let batch: Row[] = [];
  let rowNumber = 0;
  let yielded = false;
  let whole = false;
  try {
    for await (const line of lines) {
      const text = line.trim();
      if (state === 'start') {
        if (text !== '[') {
          whole = true;
          break;
        }
        state = 'rows';
      } else if (text === '') continue;
      else if (state === 'end') throw new SyntaxError(`${where}: ${path} has text after the end of its array`);
      else if (text === ']') state = 'end';
      else {
        let row: unknown;
        try {
          row = JSON.parse(text.endsWith(',') ? text.slice(0, -1) : text);
        } catch (err) {
          if (yielded) throw new SyntaxError(`${where}: line ${rowNumber + 2} of ${path} is not one JSON value (the file was edited?)`, { cause: err });
          whole = true;
          break;
        }
        const one = [row];
        checkRows(one, where, rowNumber);
        rowNumber++;
        batch.push(one[0] as Row);
        if (batch.length >= size) {
          yielded = true;
          yield batch;
          batch = [];
        }
      }
    }
  } finally {
    lines.close();
    input.destroy();
  }
  if (whole) {
    yield* chunkRows(await readJsonFile(path), size, where);
    return;
  }
  if (batch.length > 0) yield batch;
}
