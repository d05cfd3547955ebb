/** The `log` a step (or a check, or a multi-asset's asset) writes to: lines kept in order, each echoed as it comes. */
import type { StepLogger } from '../definitions/asset';
import type { LogLine } from './catalog/catalog-store';

/** Appends each line to `lines` (its `seq` is its position) and hands it to `echo` (the worker's output). */
export function collectingLogger(lines: LogLine[], echo?: (line: LogLine) => void): StepLogger {
  const push = (level: LogLine['level'], message: string): void => {
    const line: LogLine = { seq: lines.length, level, message: String(message), at: new Date().toISOString() };
    lines.push(line);
    echo?.(line);
  };
  return { debug: (m) => push('debug', m), info: (m) => push('info', m), warn: (m) => push('warn', m), error: (m) => push('error', m) };
}
