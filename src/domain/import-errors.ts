// What can go wrong with an import that the client can act on. The schema exposes each class as a typed
// GraphQL error (src/schema/*-error.ts); the import service throws them and its transaction rolls back.

/** The file (or the inline rows) holds no data row. */
export class EmptyFileError extends Error {
  override name = 'EmptyFileError';
}

/** The upload is neither CSV nor JSON. */
export class UnsupportedFormatError extends Error {
  override name = 'UnsupportedFormatError';
  constructor(
    readonly filename: string,
    readonly mimeType: string | null,
  ) {
    super(
      `Cannot import "${filename}"${mimeType ? ` (${mimeType})` : ''}: only CSV (.csv, text/csv) and JSON (.json, application/json) files are supported.`,
    );
  }
}

/** The file cannot be parsed; `line` and `column` are 1-based and say where the problem was detected. */
export class MalformedFileError extends Error {
  override name = 'MalformedFileError';
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`${message} (line ${line}, column ${column})`);
  }
}

/** The upload is larger than the configured limit. */
export class FileTooLargeError extends Error {
  override name = 'FileTooLargeError';
  constructor(readonly limitBytes: number) {
    super(`The file is larger than the limit of ${limitBytes} bytes.`);
  }
}

/** The idempotency key was already used for a different upload in this tenant. */
export class IdempotencyConflictError extends Error {
  override name = 'IdempotencyConflictError';
  constructor(readonly idempotencyKey: string) {
    super(
      `The idempotency key "${idempotencyKey}" was already used for a different import; send the same content and details to get that import back, or use a new key.`,
    );
  }
}

/** An argument is missing, too long or contradicts another one. */
export class InvalidInputError extends Error {
  override name = 'InvalidInputError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}
