// Processing states of a data import (data_imports.status).
export const IMPORT_STATUSES = ['pending', 'processing', 'completed', 'failed'] as const;

export type ImportStatus = (typeof IMPORT_STATUSES)[number];
