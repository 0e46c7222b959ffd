// The environment is validated at start-up: every setting has a default, every bad value is refused
// with a message naming the variable, and the README's configuration table lists every variable
// src/config.ts reads, with the same default.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_LIMITS, heapLimitMiB, loadConfig } from '../src/config.ts';
import { DEFAULT_IMPORT_SETTINGS } from '../src/domain/import-settings.ts';
import { TEST_AUTH_ENV } from './support/auth.ts';

const JWT = { ...TEST_AUTH_ENV };

describe('loadConfig', () => {
  it('runs the embedded database in development mode by default', () => {
    const config = loadConfig({});
    expect(config.databaseUrl).toBeUndefined();
    expect(config.auth.mode).toBe('dev');
    expect(config.limits).toEqual(DEFAULT_LIMITS);
    expect(config).toMatchObject({ port: 4000, host: '127.0.0.1', seed: true, debugSql: false, shutdownGraceMs: 10_000, logLevel: 'info', metrics: true });
  });

  it('listens on this machine only in development mode, unless HOST says otherwise', () => {
    expect(loadConfig({ FLOWGRAPH_AUTH: 'dev' }).host).toBe('127.0.0.1');
    expect(loadConfig({ FLOWGRAPH_AUTH: 'dev', HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
    expect(loadConfig({ DATABASE_URL: 'postgres://db/flowgraph', ...JWT }).host).toBe('0.0.0.0');
    expect(loadConfig({ DATABASE_URL: 'postgres://db/flowgraph', ...JWT, FLOWGRAPH_AUTH: 'dev' }).host).toBe('127.0.0.1');
  });

  it('allows no other origin by default, and only exact origins when listed', () => {
    expect(loadConfig({}).corsOrigins).toEqual([]);
    expect(loadConfig({ FLOWGRAPH_CORS_ORIGINS: 'https://app.example.com, http://localhost:5173' }).corsOrigins).toEqual([
      'https://app.example.com',
      'http://localhost:5173',
    ]);
    for (const bad of ['*', 'https://app.example.com/', 'https://app.example.com/path', 'app.example.com', 'ftp://files.example.com']) {
      expect(() => loadConfig({ FLOWGRAPH_CORS_ORIGINS: bad })).toThrow(/FLOWGRAPH_CORS_ORIGINS must list origins/);
    }
  });

  it('needs a JWT configuration with a database URL, and in production', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgres://db/flowgraph' })).toThrow(/FLOWGRAPH_JWT_SECRET.*FLOWGRAPH_JWKS_URL/);
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(loadConfig({ DATABASE_URL: 'postgres://db/flowgraph', ...JWT }).auth).toMatchObject({ mode: 'jwt', issuer: JWT.FLOWGRAPH_JWT_ISSUER });
  });

  it('refuses development mode in production, whatever else is set', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', ...JWT, FLOWGRAPH_AUTH: 'dev' })).toThrow(/FLOWGRAPH_AUTH=dev is refused when NODE_ENV=production/);
  });

  it('checks the JWT settings', () => {
    const base = { FLOWGRAPH_AUTH: 'jwt', FLOWGRAPH_JWT_ISSUER: 'i', FLOWGRAPH_JWT_AUDIENCE: 'a' };
    expect(() => loadConfig({ ...base, FLOWGRAPH_JWT_SECRET: 'short' })).toThrow(/at least 32 bytes/);
    expect(() => loadConfig({ ...base, FLOWGRAPH_JWT_SECRET: 'x'.repeat(32), FLOWGRAPH_JWKS_URL: 'https://idp/jwks' })).toThrow(/not both/);
    expect(() => loadConfig({ ...base, FLOWGRAPH_JWKS_URL: 'ftp://idp/jwks' })).toThrow(/FLOWGRAPH_JWKS_URL must be an http/);
    expect(() => loadConfig({ FLOWGRAPH_AUTH: 'jwt', FLOWGRAPH_JWT_SECRET: 'x'.repeat(32) })).toThrow(/ISSUER and FLOWGRAPH_JWT_AUDIENCE are required/);
    expect(() => loadConfig({ FLOWGRAPH_AUTH: 'oauth' })).toThrow(/FLOWGRAPH_AUTH must be one of jwt, dev/);
    expect(loadConfig({ ...base, FLOWGRAPH_JWKS_URL: 'https://idp.example/jwks' }).auth.jwksUrl).toBe('https://idp.example/jwks');
  });

  it('derives the memory budget from the heap the process runs with (issue 16)', () => {
    const heap = heapLimitMiB() * 1024 * 1024;
    const { limits, imports } = loadConfig({});
    expect(limits.maxBodyBytes).toBe(Math.min(Math.floor(heap / 64), imports.maxFileBytes + 1024 * 1024));
    expect(limits.maxResponseBytes).toBe(Math.floor(heap / 16));
    expect(limits.readCacheBytes).toBe(Math.floor(heap / 32));
    expect(limits.documentCacheBytes).toBe(Math.floor(heap / 16));
    expect(limits.bodyBudgetBytes).toBe(Math.floor((heap * 5) / 16));
    expect(limits.wsMaxSockets).toBe(heapLimitMiB() * 8);
    expect(limits.maxSubscriptions).toBe(heapLimitMiB() * 16);
    expect(limits.sseMaxStreams).toBe(heapLimitMiB() * 4);
    expect(limits).toMatchObject({ maxListLength: 100, uploadIdleTimeoutMs: 30_000, maxPendingBodies: 64, wsMaxSocketsPerUser: 20, maxSubscriptionsPerUser: 100, sseMaxStreamsPerUser: 20 });
    expect(loadConfig({ FLOWGRAPH_MAX_RESPONSE_BYTES: '4096', FLOWGRAPH_WS_MAX_SOCKETS: '3' }).limits).toMatchObject({ maxResponseBytes: 4_096, wsMaxSockets: 3 });
  });

  it('refuses a bad value of every numeric setting, naming it', () => {
    const numeric = [
      'PORT',
      'FLOWGRAPH_SHUTDOWN_GRACE_MS',
      'FLOWGRAPH_MAX_PAGE_SIZE',
      'FLOWGRAPH_MAX_DEPTH',
      'FLOWGRAPH_MAX_ALIASES',
      'FLOWGRAPH_MAX_DIRECTIVES',
      'FLOWGRAPH_MAX_TOKENS',
      'FLOWGRAPH_MAX_COST',
      'FLOWGRAPH_MAX_BODY_BYTES',
      'FLOWGRAPH_MAX_UPLOAD_BYTES',
      'FLOWGRAPH_MAX_ROW_BYTES',
      'FLOWGRAPH_IMPORT_BATCH_ROWS',
      'FLOWGRAPH_IMPORT_TIMEOUT_MS',
      'FLOWGRAPH_IMPORT_PROGRESS_ROWS',
      'FLOWGRAPH_SUBSCRIPTION_BUFFER',
      'FLOWGRAPH_MAX_BATCH',
      'FLOWGRAPH_REQUEST_TIMEOUT_MS',
      'FLOWGRAPH_STATEMENT_TIMEOUT_MS',
      'FLOWGRAPH_DB_CONNECT_TIMEOUT_MS',
      'FLOWGRAPH_READY_TIMEOUT_MS',
      'FLOWGRAPH_HTTP_RECEIVE_TIMEOUT_MS',
      'FLOWGRAPH_WS_MAX_PAYLOAD_BYTES',
      'FLOWGRAPH_WS_INIT_TIMEOUT_MS',
      'FLOWGRAPH_WS_MAX_SUBSCRIPTIONS',
      'FLOWGRAPH_JWT_CLOCK_TOLERANCE_S',
      'FLOWGRAPH_MAX_RESPONSE_BYTES',
      'FLOWGRAPH_MAX_LIST_LENGTH',
      'FLOWGRAPH_READ_CACHE_BYTES',
      'FLOWGRAPH_DOCUMENT_CACHE_BYTES',
      'FLOWGRAPH_UPLOAD_IDLE_TIMEOUT_MS',
      'FLOWGRAPH_MAX_PENDING_BODIES',
      'FLOWGRAPH_BODY_BUDGET_BYTES',
      'FLOWGRAPH_WS_MAX_SOCKETS_PER_USER',
      'FLOWGRAPH_WS_MAX_SOCKETS',
      'FLOWGRAPH_MAX_SUBSCRIPTIONS_PER_USER',
      'FLOWGRAPH_MAX_SUBSCRIPTIONS',
      'FLOWGRAPH_SSE_MAX_STREAMS_PER_USER',
      'FLOWGRAPH_SSE_MAX_STREAMS',
    ];
    for (const name of numeric) {
      for (const bad of ['abc', '-1', '1.5', '1e400']) {
        expect(() => loadConfig({ [name]: bad }), `${name}=${bad}`).toThrow(new RegExp(`^${name} must be an integer`));
      }
    }
    for (const name of ['FLOWGRAPH_SEED', 'FLOWGRAPH_DEBUG_SQL', 'FLOWGRAPH_INTROSPECTION', 'FLOWGRAPH_GRAPHIQL', 'FLOWGRAPH_METRICS']) {
      expect(() => loadConfig({ [name]: 'maybe' })).toThrow(new RegExp(`^${name} must be 1 or 0`));
    }
    expect(() => loadConfig({ FLOWGRAPH_LOG_LEVEL: 'loud' })).toThrow(/FLOWGRAPH_LOG_LEVEL must be one of/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL must be a postgres/);
  });

  it('accepts only the three modes of NODE_ENV', () => {
    for (const nodeEnv of ['development', 'test']) expect(loadConfig({ NODE_ENV: nodeEnv }).nodeEnv).toBe(nodeEnv);
    expect(loadConfig({ NODE_ENV: 'production', ...JWT, FLOWGRAPH_METRICS: '0' }).nodeEnv).toBe('production');
    for (const typo of ['prod', 'Production', 'dev', 'staging', ' production']) {
      expect(() => loadConfig({ NODE_ENV: typo, ...JWT }), typo).toThrow(`NODE_ENV must be one of development, production, test, got "${typo}"`);
    }
  });

  it('seeds the demo tenant only in development mode, unless asked', () => {
    const production = { NODE_ENV: 'production', ...JWT, FLOWGRAPH_METRICS: '0' };
    expect(loadConfig({}).seed).toBe(true);
    expect(loadConfig({ NODE_ENV: 'test' }).seed).toBe(false);
    expect(loadConfig(production).seed).toBe(false);
    expect(loadConfig({ DATABASE_URL: 'postgres://db/flowgraph', ...JWT, NODE_ENV: 'production', FLOWGRAPH_METRICS: '0' }).seed).toBe(false);
    expect(loadConfig({ ...production, FLOWGRAPH_SEED: '1' }).seed).toBe(true);
    expect(loadConfig({ FLOWGRAPH_SEED: '0' }).seed).toBe(false);
  });

  it('protects /metrics with a token, which production requires while metrics are on', () => {
    const production = { NODE_ENV: 'production', ...JWT };
    expect(() => loadConfig(production)).toThrow(/In production \/metrics needs FLOWGRAPH_METRICS_TOKEN .*or FLOWGRAPH_METRICS=0/);
    expect(loadConfig({ ...production, FLOWGRAPH_METRICS: '0' })).toMatchObject({ metrics: false });
    expect(loadConfig({ ...production, FLOWGRAPH_METRICS_TOKEN: 'x'.repeat(16) })).toMatchObject({ metrics: true, metricsToken: 'x'.repeat(16) });
    expect(() => loadConfig({ FLOWGRAPH_METRICS_TOKEN: 'short' })).toThrow(/FLOWGRAPH_METRICS_TOKEN must be at least 16 bytes/);
    expect(loadConfig({}).metricsToken).toBeUndefined();
  });

  it('keeps related limits consistent', () => {
    expect(() => loadConfig({ FLOWGRAPH_MAX_PAGE_SIZE: '20' })).toThrow(/FLOWGRAPH_MAX_PAGE_SIZE cannot be below the default page size \(50\)/);
    expect(loadConfig({ FLOWGRAPH_MAX_PAGE_SIZE: '50' }).limits.maxPageSize).toBe(50);
    expect(loadConfig({ FLOWGRAPH_MAX_UPLOAD_BYTES: '1000000' }).limits.maxBodyBytes).toBe(1_000_000 + 1_048_576);
    for (const name of ['FLOWGRAPH_EVENT_RETENTION', 'FLOWGRAPH_EVENT_PRUNE_INTERVAL']) {
      expect(() => loadConfig({ [name]: 'soon' })).toThrow(new RegExp(`^${name} must be a duration`));
    }
    expect(loadConfig({ FLOWGRAPH_MAX_PAGE_SIZE: '1000', FLOWGRAPH_MAX_BATCH: '5' }).limits).toMatchObject({ maxPageSize: 1000, maxBatch: 5 });
  });
});

describe('the README configuration table', () => {
  const source = readFileSync(new URL('../src/config.ts', import.meta.url), 'utf8');
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const variables = [...new Set([...source.matchAll(/['.]((?:FLOWGRAPH_|DATABASE_URL|PORT|HOST|NODE_ENV)[A-Z_]*)/g)].map((match) => match[1]!))];

  it('lists every environment variable src/config.ts reads', () => {
    expect(variables.length).toBeGreaterThan(30);
    const rows = readme.split('\n').filter((line) => line.startsWith('| `'));
    const documented = rows.map((line) => /^\| `([A-Z_]+)`/.exec(line)?.[1]);
    expect(variables.filter((name) => !documented.includes(name))).toEqual([]);
  });

  it('gives the same defaults as the code', () => {
    const row = (name: string) => readme.split('\n').find((line) => line.startsWith(`| \`${name}\``)) ?? '';
    const limits = DEFAULT_LIMITS;
    const expected: Record<string, number> = {
      FLOWGRAPH_MAX_DEPTH: limits.maxDepth,
      FLOWGRAPH_MAX_ALIASES: limits.maxAliases,
      FLOWGRAPH_MAX_DIRECTIVES: limits.maxDirectives,
      FLOWGRAPH_MAX_TOKENS: limits.maxTokens,
      FLOWGRAPH_MAX_COST: limits.maxCost,
      FLOWGRAPH_MAX_PAGE_SIZE: limits.maxPageSize,
      FLOWGRAPH_MAX_UPLOAD_BYTES: DEFAULT_IMPORT_SETTINGS.maxFileBytes,
      FLOWGRAPH_MAX_ROW_BYTES: DEFAULT_IMPORT_SETTINGS.maxRowBytes,
      FLOWGRAPH_IMPORT_BATCH_ROWS: DEFAULT_IMPORT_SETTINGS.batchRows,
      FLOWGRAPH_IMPORT_TIMEOUT_MS: DEFAULT_IMPORT_SETTINGS.transactionTimeoutMs,
      FLOWGRAPH_IMPORT_PROGRESS_ROWS: 100_000,
      FLOWGRAPH_SUBSCRIPTION_BUFFER: 1_000,
      FLOWGRAPH_MAX_BATCH: limits.maxBatch,
      FLOWGRAPH_REQUEST_TIMEOUT_MS: limits.requestTimeoutMs,
      FLOWGRAPH_STATEMENT_TIMEOUT_MS: limits.statementTimeoutMs,
      FLOWGRAPH_DB_CONNECT_TIMEOUT_MS: limits.dbConnectTimeoutMs,
      FLOWGRAPH_READY_TIMEOUT_MS: limits.readyTimeoutMs,
      FLOWGRAPH_HTTP_RECEIVE_TIMEOUT_MS: limits.httpReceiveTimeoutMs,
      FLOWGRAPH_WS_MAX_PAYLOAD_BYTES: limits.wsMaxPayloadBytes,
      FLOWGRAPH_WS_INIT_TIMEOUT_MS: limits.wsInitTimeoutMs,
      FLOWGRAPH_WS_MAX_SUBSCRIPTIONS: limits.wsMaxSubscriptions,
      FLOWGRAPH_MAX_LIST_LENGTH: limits.maxListLength,
      FLOWGRAPH_UPLOAD_IDLE_TIMEOUT_MS: limits.uploadIdleTimeoutMs,
      FLOWGRAPH_MAX_PENDING_BODIES: limits.maxPendingBodies,
      FLOWGRAPH_WS_MAX_SOCKETS_PER_USER: limits.wsMaxSocketsPerUser,
      FLOWGRAPH_MAX_SUBSCRIPTIONS_PER_USER: limits.maxSubscriptionsPerUser,
      FLOWGRAPH_SSE_MAX_STREAMS_PER_USER: limits.sseMaxStreamsPerUser,
      PORT: 4000,
      FLOWGRAPH_SHUTDOWN_GRACE_MS: 10_000,
      FLOWGRAPH_JWT_CLOCK_TOLERANCE_S: 5,
    };
    for (const [name, value] of Object.entries(expected)) {
      const cells = row(name).split('|').map((cell) => cell.trim());
      expect({ name, default: cells[2]?.replaceAll(/[`,_ ]/g, '') }).toEqual({ name, default: String(value) });
    }
    // Defaults derived from the heap: the row names the fraction and gives the figure of npm start's 256 MiB heap.
    const npmStartHeap = 304 * 1024 * 1024;
    const derived: Record<string, [string, number]> = {
      FLOWGRAPH_MAX_BODY_BYTES: ['1/64 of the heap', npmStartHeap / 64],
      FLOWGRAPH_MAX_RESPONSE_BYTES: ['1/16 of the heap', npmStartHeap / 16],
      FLOWGRAPH_READ_CACHE_BYTES: ['1/32 of the heap', npmStartHeap / 32],
      FLOWGRAPH_DOCUMENT_CACHE_BYTES: ['1/16 of the heap', npmStartHeap / 16],
      FLOWGRAPH_BODY_BUDGET_BYTES: ['5/16 of the heap', (npmStartHeap * 5) / 16],
      FLOWGRAPH_WS_MAX_SOCKETS: ['8 per MiB of heap', 304 * 8],
      FLOWGRAPH_MAX_SUBSCRIPTIONS: ['16 per MiB of heap', 304 * 16],
      FLOWGRAPH_SSE_MAX_STREAMS: ['4 per MiB of heap', 304 * 4],
    };
    for (const [name, [fraction, figure]] of Object.entries(derived)) {
      const cell = row(name).split('|')[2] ?? '';
      expect(cell, name).toContain(fraction);
      expect(cell.replaceAll(',', ''), name).toContain(`(${figure} under \`npm start\`)`);
    }
  });
});

describe('.env.example', () => {
  const source = readFileSync(new URL('../src/config.ts', import.meta.url), 'utf8');
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const example = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
  const settings = new Map(
    [...example.matchAll(/^#([A-Z_]+)=(\S*)/gm)].map((match) => [match[1]!, match[2]!] as const),
  );

  it('lists every environment variable src/config.ts reads, commented out', () => {
    const variables = [...new Set([...source.matchAll(/['.]((?:FLOWGRAPH_|DATABASE_URL|PORT|HOST|NODE_ENV)[A-Z_]*)/g)].map((match) => match[1]!))];
    expect(variables.filter((name) => !settings.has(name))).toEqual([]);
    // Nothing is set by copying the file as it is.
    expect(example.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#'))).toEqual([]);
  });

  it('gives the README defaults', () => {
    for (const [name, value] of settings) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${name}\``));
      expect(row, name).toBeDefined();
      const readmeDefault = row!.split('|')[2]!.trim().replaceAll(/[`,_ ]/g, '');
      if (value !== '') expect({ name, value }).toEqual({ name, value: readmeDefault.replace(/^\.\//, './') });
    }
  });
});
