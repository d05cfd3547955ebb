/**
 * One error hierarchy for Cairn. Every error carries a literal `code` so callers (CLI exit codes, the
 * Temporal boundary, tests) branch on data rather than on message text.
 */
export const ErrorCodes = {
  InvalidKey: 'INVALID_KEY',
  DuplicateKey: 'DUPLICATE_KEY',
  UnknownDep: 'UNKNOWN_DEP',
  Cycle: 'CYCLE',
  SelfDependency: 'SELF_DEPENDENCY',
  InvalidConfigSchema: 'INVALID_CONFIG_SCHEMA',
  InvalidConfig: 'INVALID_CONFIG',
  EmptyCodeLocation: 'EMPTY_CODE_LOCATION',
  InvalidDefinition: 'INVALID_DEFINITION',
  InvalidWorkspace: 'INVALID_WORKSPACE',
  InvalidSelection: 'INVALID_SELECTION',
  EmptySelection: 'EMPTY_SELECTION',
  MissingResource: 'MISSING_RESOURCE',
  StepFailed: 'STEP_FAILED',
  RunFailed: 'RUN_FAILED',
  NoSnapshots: 'NO_SNAPSHOTS',
  InvalidMetadata: 'INVALID_METADATA',
  UnknownAsset: 'UNKNOWN_ASSET',
  UnknownRun: 'UNKNOWN_RUN',
  CatalogUnavailable: 'CATALOG_UNAVAILABLE',
  CatalogTooNew: 'CATALOG_TOO_NEW',
  InvalidReexecution: 'INVALID_REEXECUTION',
  InvalidArgument: 'INVALID_ARGUMENT',
  InvalidPartition: 'INVALID_PARTITION',
  InvalidResourceConfig: 'INVALID_RESOURCE_CONFIG',
  ContractViolation: 'CONTRACT_VIOLATION',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class CairnError extends Error {
  override readonly name: string = 'CairnError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Where the problem is: an asset key, a file, a column of a selection string, a config field. */
    readonly where?: string,
  ) {
    super(message);
  }
}

/** Many problems found at once (validation reports every problem, not the first). */
export class CairnErrors extends CairnError {
  override readonly name = 'CairnErrors';
  constructor(readonly errors: readonly CairnError[]) {
    super(errors[0]?.code ?? ErrorCodes.InvalidDefinition, errors.map((e) => `- ${e.message}`).join('\n'));
  }
}

/** A selection string that does not parse or evaluate; `column` is 1-based. */
export class SelectionError extends CairnError {
  override readonly name = 'SelectionError';
  constructor(
    message: string,
    readonly selection: string,
    readonly column: number,
    code: ErrorCode = ErrorCodes.InvalidSelection,
  ) {
    super(code, `${message} at column ${column} of selection '${selection}'\n  ${selection}\n  ${' '.repeat(Math.max(0, column - 1))}^`, `column ${column}`);
  }
}

/**
 * Thrown from user code to fail a step without retrying it (a bad input that another attempt cannot fix).
 * @example
 * if (!rows.length) throw new NonRetryableError('the source export is empty');
 */
export class NonRetryableError extends Error {
  override readonly name = 'NonRetryableError';
}
