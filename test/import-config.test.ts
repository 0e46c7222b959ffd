// The import limits come from the environment, validated like the rest of the configuration.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import { DEFAULT_IMPORT_SETTINGS } from '../src/domain/import-settings.ts';

describe('import settings', () => {
  it('default to a 100 MiB upload, 1 MiB rows and a 30-minute transaction', () => {
    expect(loadConfig({}).imports).toEqual({ ...DEFAULT_IMPORT_SETTINGS, progressEveryRows: 100_000 });
    expect(DEFAULT_IMPORT_SETTINGS).toMatchObject({ maxFileBytes: 100 * 1024 * 1024, maxRowBytes: 1024 * 1024, transactionTimeoutMs: 1_800_000 });
  });

  it('are read from FLOWGRAPH_* variables', () => {
    const { imports } = loadConfig({
      FLOWGRAPH_MAX_UPLOAD_BYTES: '5000000',
      FLOWGRAPH_MAX_ROW_BYTES: '4096',
      FLOWGRAPH_IMPORT_BATCH_ROWS: '250',
      FLOWGRAPH_IMPORT_TIMEOUT_MS: '60000',
      FLOWGRAPH_IMPORT_PROGRESS_ROWS: '0',
    });
    expect(imports).toMatchObject({ maxFileBytes: 5_000_000, maxRowBytes: 4096, batchRows: 250, transactionTimeoutMs: 60_000, progressEveryRows: 0 });
  });

  it.each([
    ['FLOWGRAPH_MAX_UPLOAD_BYTES', '0'],
    ['FLOWGRAPH_MAX_UPLOAD_BYTES', '100MB'],
    ['FLOWGRAPH_IMPORT_BATCH_ROWS', '100000'],
    ['FLOWGRAPH_IMPORT_TIMEOUT_MS', '10'],
  ])('refuse %s=%s with a clear message', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});
