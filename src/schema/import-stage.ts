import { builder } from '../builder.ts';
import { IMPORT_STAGES, type ImportStage } from '../services/import-progress.ts';
import { enumValues } from './enum-values.ts';

const DESCRIPTIONS: Record<ImportStage, string> = {
  receiving:
    'The upload is still arriving and is received into a temporary file before its transaction opens (on the embedded ' +
    'database, whose one session would otherwise be held while the client sends): bytesRead grows, nothing is stored yet.',
  storing: "The rows are being stored in the import's transaction.",
};

export const ImportStageEnum = builder.enumType('ImportStage', {
  description: 'What an import in flight is doing.',
  values: enumValues(IMPORT_STAGES, (value) => DESCRIPTIONS[value]),
});
