// Query.importProgress: an import in flight in this process (import-progress.ts), else the committed data
// import with that key, else nothing. Read in that order, so an import that commits between the two looks
// up is still found.
import type { Viewer } from '../context.ts';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { ImportStage, ImportTracker } from './import-progress.ts';
import { LIMITS } from './store-import.ts';

export interface ImportProgressReport {
  idempotencyKey: string;
  filename: string;
  status: 'processing' | 'completed';
  /** Null once completed. */
  stage: ImportStage | null;
  rowsStored: number;
  invalidRows: number;
  bytesRead: number | null;
  startedAt: Date | null;
  flowId: string | null;
}

export async function importProgress(
  prisma: PrismaClient,
  tracker: ImportTracker,
  viewer: Pick<Viewer, 'clientAccountId' | 'engagementId'>,
  idempotencyKey: string,
): Promise<ImportProgressReport | null> {
  const key = idempotencyKey.trim();
  // A key storeImport refuses (empty, too long, with a NUL) belongs to no import: no need to ask the database.
  if (key === '' || key.length > LIMITS.idempotencyKey || key.includes('\u0000')) return null;
  const running = tracker.find(viewer, key);
  if (running) return { ...running, status: 'processing', flowId: null };
  const stored = await prisma.dataImport.findFirst({
    where: { clientAccountId: viewer.clientAccountId, engagementId: viewer.engagementId, idempotencyKey: key },
    select: { filename: true, totalRecords: true, failedRecords: true, fileSize: true, startedAt: true, masterFlowId: true },
  });
  if (!stored) return null;
  return {
    idempotencyKey: key,
    filename: stored.filename,
    status: 'completed',
    stage: null,
    rowsStored: stored.totalRecords,
    invalidRows: stored.failedRecords,
    bytesRead: stored.fileSize === null ? null : Number(stored.fileSize),
    startedAt: stored.startedAt,
    flowId: stored.masterFlowId,
  };
}
