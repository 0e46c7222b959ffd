// storeImport: an uploaded file (or inline rows) becomes a master flow, its data import, one raw import
// record per row and its discovery flow, in ONE transaction, parents first (docs/design.md invariants 1 and 3).
// The upload is consumed as a stream inside that transaction and inserted in batches, so memory stays flat
// whatever the file size, and a failure or a killed process leaves nothing behind.
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Viewer } from '../context.ts';
import { DISCOVERY_PHASES, PHASE_COMPLETED_FIELD, nextPhase, progressPercentage, type PhaseFlags } from '../domain/discovery-phases.ts';
import {
  IdempotencyConflictError,
  InvalidInputError,
  UnsupportedFormatError,
} from '../domain/import-errors.ts';
import type { ImportSettings } from '../domain/import-settings.ts';
import type { ValidatedRow } from '../domain/row-validation.ts';
import { Prisma, type PrismaClient } from '../generated/prisma/client.ts';
import { csvRows } from './import/csv.ts';
import { inlineFingerprint, inlineRows } from './import/inline.ts';
import { jsonRows } from './import/json.ts';
import { decodeUpload } from './import/text.ts';
import type { ImportTracker, TrackedImport } from './import-progress.ts';
import { WriteAbortedError, runWrite, writeAbortSignal } from './write-transaction.ts';

/** An uploaded file: Yoga's File, or the streaming upload of src/http/multipart-upload.ts. */
export interface UploadedFile {
  readonly name: string;
  readonly type: string;
  stream(): AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>;
}

export interface StoreImportInput {
  file?: UploadedFile | null;
  rows?: readonly unknown[] | null;
  filename: string;
  importType: string;
  importCategory?: string | null;
  sourceSystem?: string | null;
  idempotencyKey?: string | null;
}

export interface ImportProgress {
  dataImportId: string;
  rowsStored: number;
}

export interface StoreImportOptions {
  settings: ImportSettings;
  /** Called every `settings.progressEveryRows` stored rows (rows of an open transaction, not yet committed). */
  onProgress?: (progress: ImportProgress) => void;
  /** Where an import with an idempotency key reports the rows it has stored so far (Query.importProgress). */
  tracker?: ImportTracker;
}

export interface StoredImport {
  flowId: string;
  dataImportId: string;
  /** True when an earlier import with the same idempotency key and content was returned instead. */
  replayed: boolean;
  /** Raw import records this call stored (0 when replayed). */
  rowsStored: number;
}

type Format = 'csv' | 'json';

/**
 * A batch is also flushed once its rows take this much text: rows may be up to FLOWGRAPH_MAX_ROW_BYTES each,
 * and 2,000 of 1 MiB would be a 2 GiB statement, held (twice: the rows and their joined payload) by a process
 * with a 256 MiB heap.
 */
const MAX_BATCH_TEXT = 4 * 1024 * 1024;

/** Longest accepted value of each text input, in characters. */
export const LIMITS = { filename: 255, importType: 50, importCategory: 50, sourceSystem: 100, idempotencyKey: 255 } as const;

function checkText(field: keyof typeof LIMITS, value: string | null | undefined, required: boolean): string | null {
  if (value === null || value === undefined) {
    if (required) throw new InvalidInputError(field, `${field} is required.`);
    return null;
  }
  const trimmed = value.trim();
  if (trimmed === '') {
    if (required || field === 'idempotencyKey') throw new InvalidInputError(field, `${field} cannot be empty.`);
    return null;
  }
  if (trimmed.length > LIMITS[field]) {
    throw new InvalidInputError(field, `${field} is longer than ${LIMITS[field]} characters.`);
  }
  if (trimmed.includes('\u0000')) throw new InvalidInputError(field, `${field} contains a NUL character.`);
  return trimmed;
}

function formatOf(filename: string, file: UploadedFile): Format {
  for (const name of [filename, file.name]) {
    const extension = /\.([a-z0-9]+)$/i.exec(name ?? '')?.[1]?.toLowerCase();
    if (extension === 'csv') return 'csv';
    if (extension === 'json') return 'json';
  }
  const mime = file.type.split(';')[0]!.trim().toLowerCase();
  if (mime === 'text/csv' || mime === 'application/csv') return 'csv';
  if (mime === 'application/json') return 'json';
  throw new UnsupportedFormatError(filename, file.type || null);
}

function bytesOf(file: UploadedFile): AsyncIterable<Uint8Array> {
  return file.stream() as AsyncIterable<Uint8Array>;
}

/** One row in the shape the batch INSERT reads back with jsonb_array_elements. */
function encodeRow(rowNumber: number, row: ValidatedRow): string {
  const errors = row.errors.length > 0 ? `,"e":${JSON.stringify(row.errors)}` : '';
  return `{"n":${rowNumber},"v":${row.errors.length === 0},"d":${JSON.stringify(row.rawData)}${errors}}`;
}

class IdempotencyKeyTaken extends Error {}

interface Prepared {
  rows: AsyncIterable<ValidatedRow[]>;
  /** Known once `rows` is exhausted. */
  facts(): { sha256: string; fileSize: number | null; processingConfig: Prisma.InputJsonObject };
  /** Bytes of the uploaded file read so far; null for inline rows. */
  bytesRead(): number | null;
  mimeType: string;
}

function prepare(input: StoreImportInput, filename: string, settings: ImportSettings): Prepared {
  if (input.file) {
    const format = formatOf(filename, input.file);
    const upload = decodeUpload(() => bytesOf(input.file!), settings.maxFileBytes);
    return {
      rows: format === 'csv' ? csvRows(upload.chunks, settings) : jsonRows(upload.chunks, settings),
      mimeType: input.file.type && input.file.type !== 'application/octet-stream' ? input.file.type : format === 'csv' ? 'text/csv' : 'application/json',
      bytesRead: () => upload.stats.bytes,
      facts: () => ({
        sha256: upload.stats.sha256(),
        fileSize: upload.stats.bytes,
        processingConfig: {
          source: 'upload',
          format,
          encoding: 'utf-8',
          byteOrderMark: upload.stats.byteOrderMark,
          ...(format === 'csv' ? { delimiter: ',', header: true } : {}),
        },
      }),
    };
  }
  const fingerprint = inlineFingerprint(input.rows!, settings.maxFileBytes);
  return {
    rows: inlineRows(input.rows!, settings),
    mimeType: 'application/json',
    bytesRead: () => null,
    facts: () => ({ sha256: fingerprint.sha256, fileSize: null, processingConfig: { source: 'inline', format: 'json' } }),
  };
}

/** The fingerprint of the new content, for comparison with an earlier import under the same key. */
async function contentSha256(input: StoreImportInput, settings: ImportSettings): Promise<string> {
  if (!input.file) return inlineFingerprint(input.rows!, settings.maxFileBytes).sha256;
  const upload = decodeUpload(() => bytesOf(input.file!), settings.maxFileBytes);
  for await (const _chunk of upload.chunks);
  return upload.stats.sha256();
}

/**
 * The upload written to a temporary file, then read from there (as often as needed). Writing stops one byte
 * past the upload limit: that is enough for the import to answer FileTooLarge, as it does for a stream.
 * Receiving is part of the write: when the server shuts down and `signal` aborts, it stops at once with a
 * WriteAbortedError (answered with a retryable SHUTTING_DOWN; nothing was stored), even while the client
 * is between two chunks.
 */
async function spooled(
  file: UploadedFile,
  maxBytes: number,
  directory: string,
  signal: AbortSignal | undefined,
  received: (bytes: number) => void,
): Promise<UploadedFile> {
  const target = path.join(directory, 'upload');
  let written = 0;
  received(0);
  // The drain's signal lives as long as the process: the listener is removed once the upload is received.
  let abort = () => {};
  const aborted = new Promise<never>((_resolve, reject) => (abort = () => reject(new WriteAbortedError())));
  aborted.catch(() => {});
  if (signal?.aborted) abort();
  signal?.addEventListener('abort', abort, { once: true });
  const chunks = bytesOf(file)[Symbol.asyncIterator]();
  async function* upToLimit() {
    let finished = false;
    try {
      for (;;) {
        // Raced with the signal: a client that stopped sending would otherwise hold the shutdown until the
        // connections are cut, and then get no answer.
        const next = await Promise.race([chunks.next(), aborted]);
        if (next.done) {
          finished = true;
          return;
        }
        const chunk = next.value;
        const room = maxBytes + 1 - written;
        if (chunk.byteLength >= room) {
          written += room;
          received(written);
          yield chunk.subarray(0, room);
          return;
        }
        written += chunk.byteLength;
        received(written);
        yield chunk;
      }
    } finally {
      // The rest of the upload is not read (given up, too large, or the file could not be written): the
      // stream is ended without waiting for it, and its request is answered.
      if (!finished) void Promise.resolve(chunks.return?.()).catch(() => {});
    }
  }
  try {
    await pipeline(upToLimit, createWriteStream(target));
  } finally {
    signal?.removeEventListener('abort', abort);
  }
  return { name: file.name, type: file.type, stream: () => createReadStream(target) };
}

export async function storeImport(
  prisma: PrismaClient,
  viewer: Viewer,
  input: StoreImportInput,
  options: StoreImportOptions,
): Promise<StoredImport> {
  if (!input.file || !options.settings.spoolUploads) return storeImportNow(prisma, viewer, input, options);
  // Checked before the upload is received: bad input is refused without waiting for the whole file.
  const { details, idempotencyKey } = checkInput(input);
  const tenant = { clientAccountId: viewer.clientAccountId, engagementId: viewer.engagementId };
  // Tracked from the first byte: Query.importProgress reports RECEIVING (bytes arriving, nothing stored yet).
  const tracked = idempotencyKey && options.tracker ? options.tracker.begin(tenant, idempotencyKey, details.filename) : undefined;
  const directory = await mkdtemp(path.join(tmpdir(), 'flowgraph-upload-'));
  try {
    const file = await spooled(input.file, options.settings.maxFileBytes, directory, writeAbortSignal(), (bytes) => tracked?.received(bytes));
    return await storeImportNow(prisma, viewer, { ...input, file }, options, tracked);
  } finally {
    tracked?.end();
    await rm(directory, { recursive: true, force: true });
  }
}

function checkInput(input: StoreImportInput) {
  if (Boolean(input.file) === Boolean(input.rows)) {
    throw new InvalidInputError('file', 'Give either a file or rows, not both and not neither.');
  }
  const details = {
    filename: checkText('filename', input.filename, true)!,
    importType: checkText('importType', input.importType, true)!,
    importCategory: checkText('importCategory', input.importCategory, false),
    sourceSystem: checkText('sourceSystem', input.sourceSystem, false),
  };
  return { details, idempotencyKey: checkText('idempotencyKey', input.idempotencyKey, false) };
}

async function storeImportNow(
  prisma: PrismaClient,
  viewer: Viewer,
  input: StoreImportInput,
  options: StoreImportOptions,
  /** The tracking storeImport began for the upload it received first. */
  received?: TrackedImport,
): Promise<StoredImport> {
  const { settings } = options;
  const { details, idempotencyKey } = checkInput(input);
  const tenant = { clientAccountId: viewer.clientAccountId, engagementId: viewer.engagementId };

  const replay = async (): Promise<StoredImport | null> => {
    if (!idempotencyKey) return null;
    const earlier = await prisma.dataImport.findFirst({
      where: { ...tenant, idempotencyKey },
      select: { id: true, masterFlowId: true, contentSha256: true, filename: true, importType: true, importCategory: true, sourceSystem: true },
    });
    if (!earlier) return null;
    const sameDetails =
      earlier.filename === details.filename &&
      earlier.importType === details.importType &&
      earlier.importCategory === details.importCategory &&
      earlier.sourceSystem === details.sourceSystem;
    if (!sameDetails || earlier.contentSha256 !== (await contentSha256(input, settings))) {
      throw new IdempotencyConflictError(idempotencyKey);
    }
    return { flowId: earlier.masterFlowId, dataImportId: earlier.id, replayed: true, rowsStored: 0 };
  };

  const earlier = await replay();
  if (earlier) return earlier;

  const prepared = prepare(input, details.filename, settings);
  const flowId = randomUUID();
  const dataImportId = randomUUID();
  // The rows of the attempt that committed (a retried transaction counts again from 0).
  let committedRows = () => 0;
  // Tracked from before the transaction: on PGlite's one connection a query of the database would wait
  // for the import, so a client asking for its progress must find it here from the start.
  const tracked: TrackedImport | undefined =
    received ?? (idempotencyKey && options.tracker ? options.tracker.begin(tenant, idempotencyKey, details.filename) : undefined);
  try {
    await runWrite(
      prisma,
      async (tx) => {
        const startedAt = new Date();
        tracked?.storing(prepared.bytesRead());
        await tx.masterFlow.create({
          data: {
            ...tenant,
            flowId,
            userId: viewer.userId,
            flowType: 'discovery',
            flowName: `Discovery Import ${dataImportId}`,
            flowStatus: 'running',
            flowConfiguration: { data_import_id: dataImportId },
            phaseTransitions: [{ from: null, to: 'running', at: startedAt.toISOString(), by: viewer.userId }],
            version: 1,
          },
        });
        try {
          await tx.dataImport.create({
            data: {
              ...tenant,
              ...details,
              id: dataImportId,
              masterFlowId: flowId,
              importName: details.filename,
              mimeType: prepared.mimeType,
              status: 'processing',
              importedBy: viewer.userId,
              idempotencyKey,
              startedAt,
            },
          });
        } catch (error) {
          // Another request holds the key: PostgreSQL made this insert wait for it to commit.
          if (idempotencyKey && error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
            throw new IdempotencyKeyTaken();
          }
          throw error;
        }

        let rowNumber = 0;
        let invalid = 0;
        committedRows = () => rowNumber;
        let batch: string[] = [];
        let batchText = 0;
        let reported = 0;
        // At most one INSERT is in flight while the next batch is parsed, so parsing (this process) and
        // storing (the database) overlap instead of taking turns.
        let inFlight: Promise<unknown> = Promise.resolve();
        const flush = async () => {
          const payload = `[${batch.join(',')}]`;
          const rowsSoFar = rowNumber;
          const invalidSoFar = invalid;
          const bytesSoFar = prepared.bytesRead();
          batch = [];
          batchText = 0;
          await inFlight;
          // One statement per batch: the rows travel as one jsonb array parameter that PostgreSQL unpacks
          // itself. Measured 9 to 12 times faster than createMany with its bind parameters per column per
          // row (bench/RESULTS.md, "Imports").
          inFlight = tx.$executeRaw`
            INSERT INTO raw_import_records
              (data_import_id, client_account_id, engagement_id, master_flow_id, row_number, raw_data, is_valid, validation_errors)
            SELECT ${dataImportId}::uuid, ${tenant.clientAccountId}::uuid, ${tenant.engagementId}::uuid, ${flowId}::uuid,
                   (r->>'n')::int, r->'d', (r->>'v')::boolean, r->'e'
              FROM jsonb_array_elements(${payload}::jsonb) AS r`;
          // Observed here so a failure is never "unhandled"; it is rethrown by the next `await inFlight`.
          inFlight.catch(() => {});
          if (tracked) void inFlight.then(() => tracked.stored(rowsSoFar, invalidSoFar, bytesSoFar), () => {});
          if (options.onProgress && settings.progressEveryRows > 0 && rowsSoFar - reported >= settings.progressEveryRows) {
            await inFlight;
            reported = rowsSoFar;
            options.onProgress({ dataImportId, rowsStored: rowsSoFar });
          }
        };
        try {
          for await (const rows of prepared.rows) {
            for (const row of rows) {
              rowNumber += 1;
              if (row.errors.length > 0) invalid += 1;
              const encoded = encodeRow(rowNumber, row);
              batch.push(encoded);
              batchText += encoded.length;
              if (batch.length >= settings.batchRows || batchText >= MAX_BATCH_TEXT) await flush();
            }
          }
          if (batch.length > 0) await flush();
          await inFlight;
        } catch (error) {
          // The transaction rolls back after the statement still running, whatever it gives.
          await inFlight.catch(() => {});
          throw error;
        }

        // The discovery flow first, then the import's completion: the trigger that appends import_stored
        // (migration 20261202000000_flow_event_triggers) reads the discovery flow's phase. The master flow's
        // insert above appended master_flow_created.
        const flags = Object.fromEntries(
          DISCOVERY_PHASES.map((phase) => [PHASE_COMPLETED_FIELD[phase], phase === 'data_import']),
        ) as PhaseFlags;
        await tx.discoveryFlow.create({
          data: {
            ...tenant,
            flowId,
            masterFlowId: flowId,
            userId: viewer.userId,
            dataImportId,
            flowName: `Discovery Import ${dataImportId}`,
            status: 'active',
            currentPhase: nextPhase(flags),
            progressPercentage: progressPercentage(flags),
            ...flags,
            phaseState: { data_import: { completedAt: new Date().toISOString() } },
          },
        });

        const facts = prepared.facts();
        await tx.dataImport.update({
          where: { id: dataImportId },
          data: {
            status: 'completed',
            progressPercentage: 100,
            totalRecords: rowNumber,
            processedRecords: rowNumber,
            failedRecords: invalid,
            contentSha256: facts.sha256,
            fileSize: facts.fileSize,
            processingConfig: facts.processingConfig,
            completedAt: new Date(),
          },
        });
      },
      { timeoutMs: settings.transactionTimeoutMs, actor: viewer.userId },
    );
  } catch (error) {
    if (error instanceof IdempotencyKeyTaken) {
      const winner = await replay();
      if (winner) return winner;
    }
    throw error;
  } finally {
    tracked?.end();
  }
  return { flowId, dataImportId, replayed: false, rowsStored: committedRows() };
}
