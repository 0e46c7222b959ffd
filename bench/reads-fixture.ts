// The read benchmark's data: one tenant, N master flows with 1-3 imports each (100 raw records per import on
// average), one discovery flow per master flow in varied phases. A seeded generator makes it identical on every
// run; it is written straight into a PostgreSQL database migrated with flowgraph's own migrations, with one
// multi-row INSERT (unnest of arrays) per table and batch, so 1,000 master flows (~200,000 records) load in
// seconds.
//
// Master flow 0 is the "subject" of queries (a) and (c): it always has 3 imports of 250 records, so a page of
// 500 raw records exists whatever the size.
import pg from 'pg';
import { applyMigrations } from '../src/db/migrator.ts';
import { postgresSession } from '../src/db/sql-session.ts';
import { DISCOVERY_PHASES, type DiscoveryPhase } from '../src/domain/discovery-phases.ts';

export const FIXTURE_VERSION = 1;
export const DEFAULT_SEED = 7;

export interface FixtureOptions {
  flows: number;
  seed?: number;
  /** Records per import are drawn uniformly from [min, max] (the subject flow excepted). */
  recordsPerImport?: { min: number; max: number };
  /** Records of each of the subject flow's 3 imports. */
  subjectRecordsPerImport?: number;
}

export interface FixtureSummary {
  database: string;
  flows: number;
  imports: number;
  rawRecords: number;
  discoveryFlows: number;
  tenant: { clientAccountId: string; engagementId: string; userId: string };
  /** flow_id of master flow 0, the subject of queries (a) and (c). */
  subjectFlowId: string;
  loadedMs: number | null;
}

/** Small, fast, seedable PRNG (mulberry32): the same seed gives the same fixture on every machine. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function uuidFrom(random: () => number): string {
  const bytes = Array.from({ length: 16 }, () => Math.floor(random() * 256));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const OPERATING_SYSTEMS = ['RHEL 9', 'Ubuntu 22.04', 'Windows Server 2019', 'Windows Server 2022', 'SLES 15'];
const ENVIRONMENTS = ['production', 'staging', 'development', 'test'];
const IMPORT_TYPES = ['servers', 'cmdb', 'applications', 'databases'];

interface Row {
  [column: string]: unknown;
}

interface Tables {
  masterFlows: Row[];
  dataImports: Row[];
  rawRecords: Row[];
  discoveryFlows: Row[];
}

/**
 * Generates the fixture, handing `flush` whole master flows with their children whenever about 10,000 raw
 * records have accumulated, so memory stays bounded and parents are always written before their children.
 * Everything is ASCII (autocannon decodes response bodies chunk by chunk).
 */
async function generate(options: FixtureOptions, flush: (tables: Tables) => Promise<void>): Promise<void> {
  const random = prng(options.seed ?? DEFAULT_SEED);
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const pick = <T>(values: readonly T[]) => values[Math.floor(random() * values.length)]!;
  const range = options.recordsPerImport ?? { min: 50, max: 150 };
  const subjectRecords = options.subjectRecordsPerImport ?? 250;
  const tenant = { clientAccountId: uuidFrom(random), engagementId: uuidFrom(random), userId: 'bench-user' };
  const owner = { client_account_id: tenant.clientAccountId, engagement_id: tenant.engagementId };
  const base = Date.parse('2026-01-01T00:00:00Z');
  let tables: Tables = { masterFlows: [], dataImports: [], rawRecords: [], discoveryFlows: [] };

  for (let flow = 0; flow < options.flows; flow += 1) {
    const flowId = uuidFrom(random);
    const createdAt = new Date(base + flow * 60_000);
    const completed = int(0, 5);
    const status =
      completed === 5 ? 'completed' : completed === 0 ? pick(['initialized', 'running'] as const) : pick(['running', 'running', 'paused', 'failed'] as const);
    const imports = flow === 0 ? 3 : int(1, 3);
    const importIds = Array.from({ length: imports }, () => uuidFrom(random));
    const transitions: { from: string | null; to: string; at: string; by: string }[] =
      status === 'initialized' ? [] : [{ from: null, to: 'running', at: createdAt.toISOString(), by: tenant.userId }];
    if (status !== 'initialized' && status !== 'running') {
      transitions.push({ from: 'running', to: status, at: new Date(createdAt.getTime() + 30_000).toISOString(), by: tenant.userId });
    }
    tables.masterFlows.push({
      ...owner,
      flow_id: flowId,
      user_id: tenant.userId,
      flow_type: 'discovery',
      flow_name: `Discovery import ${String(flow + 1).padStart(4, '0')}`,
      flow_status: status,
      flow_configuration: JSON.stringify({ data_import_id: importIds[0] }),
      phase_transitions: JSON.stringify(transitions),
      version: transitions.length,
      created_at: createdAt,
      updated_at: new Date(createdAt.getTime() + 30_000),
    });

    for (const [index, importId] of importIds.entries()) {
      const records = flow === 0 ? subjectRecords : int(range.min, range.max);
      let failed = 0;
      for (let row = 1; row <= records; row += 1) {
        const valid = random() >= 0.05;
        if (!valid) failed += 1;
        tables.rawRecords.push({
          ...owner,
          data_import_id: importId,
          master_flow_id: flowId,
          row_number: row,
          raw_data: JSON.stringify({
            hostname: `srv-${flow + 1}-${index + 1}-${row}.example.net`,
            ip: valid ? `10.${int(0, 255)}.${int(0, 255)}.${int(1, 254)}` : 'not-an-ip',
            os: pick(OPERATING_SYSTEMS),
            cpu_cores: 2 ** int(0, 5),
            memory_gb: 2 ** int(1, 8),
            environment: pick(ENVIRONMENTS),
          }),
          validation_errors: valid ? null : JSON.stringify([{ field: 'ip', message: 'not an IPv4 address' }]),
          is_valid: valid,
          is_processed: true,
          created_at: new Date(createdAt.getTime() + index * 1000),
        });
      }
      tables.dataImports.push({
        ...owner,
        id: importId,
        master_flow_id: flowId,
        import_name: `import ${index + 1} of flow ${flow + 1}`,
        import_type: pick(IMPORT_TYPES),
        filename: `flow-${flow + 1}-file-${index + 1}.csv`,
        file_size: records * 120,
        status: 'completed',
        progress_percentage: 100,
        total_records: records,
        processed_records: records,
        failed_records: failed,
        imported_by: tenant.userId,
        created_at: new Date(createdAt.getTime() + index * 1000),
        updated_at: new Date(createdAt.getTime() + index * 1000),
      });
    }

    const phaseState: Record<string, { completedAt: string }> = {};
    DISCOVERY_PHASES.slice(0, completed).forEach((phase, index) => {
      phaseState[phase] = { completedAt: new Date(createdAt.getTime() + (index + 1) * 5_000).toISOString() };
    });
    tables.discoveryFlows.push({
      ...owner,
      flow_id: flowId,
      master_flow_id: flowId,
      user_id: tenant.userId,
      data_import_id: importIds[0],
      flow_name: `Discovery import ${String(flow + 1).padStart(4, '0')}`,
      status: { initialized: 'active', running: 'active', paused: 'paused', completed: 'completed', failed: 'failed' }[status],
      current_phase: (DISCOVERY_PHASES[completed] ?? null) as DiscoveryPhase | null,
      progress_percentage: completed * 20,
      ...Object.fromEntries(DISCOVERY_PHASES.map((phase, index) => [`${phase}_completed`, index < completed])),
      phase_state: JSON.stringify(phaseState),
      created_at: createdAt,
      updated_at: new Date(createdAt.getTime() + 30_000),
      completed_at: completed === 5 ? new Date(createdAt.getTime() + 25_000) : null,
    });
    if (tables.rawRecords.length >= 10_000 || flow === options.flows - 1) {
      await flush(tables);
      tables = { masterFlows: [], dataImports: [], rawRecords: [], discoveryFlows: [] };
    }
  }
}

/** Column name -> PostgreSQL array type used with unnest(). */
const COLUMNS: Record<string, Record<string, string>> = {
  crewai_flow_state_extensions: {
    flow_id: 'uuid', client_account_id: 'uuid', engagement_id: 'uuid', user_id: 'text', flow_type: 'text', flow_name: 'text',
    flow_status: 'text', flow_configuration: 'jsonb', phase_transitions: 'jsonb', version: 'int', created_at: 'timestamptz',
    updated_at: 'timestamptz',
  },
  data_imports: {
    id: 'uuid', client_account_id: 'uuid', engagement_id: 'uuid', master_flow_id: 'uuid', import_name: 'text', import_type: 'text',
    filename: 'text', file_size: 'bigint', status: 'text', progress_percentage: 'float8', total_records: 'int',
    processed_records: 'int', failed_records: 'int', imported_by: 'text', created_at: 'timestamptz', updated_at: 'timestamptz',
  },
  raw_import_records: {
    data_import_id: 'uuid', client_account_id: 'uuid', engagement_id: 'uuid', master_flow_id: 'uuid', row_number: 'int',
    raw_data: 'jsonb', validation_errors: 'jsonb', is_valid: 'bool', is_processed: 'bool', created_at: 'timestamptz',
  },
  discovery_flows: {
    flow_id: 'uuid', master_flow_id: 'uuid', client_account_id: 'uuid', engagement_id: 'uuid', user_id: 'text', data_import_id: 'uuid',
    flow_name: 'text', status: 'text', current_phase: 'text', progress_percentage: 'float8', data_import_completed: 'bool',
    data_validation_completed: 'bool', field_mapping_completed: 'bool', data_cleansing_completed: 'bool',
    asset_inventory_completed: 'bool', phase_state: 'jsonb', created_at: 'timestamptz', updated_at: 'timestamptz',
    completed_at: 'timestamptz',
  },
};

/** What the fixture is written through: a pg client, or any session of src/db/sql-session.ts (PGlite too). */
interface Writer {
  query(text: string, params: unknown[]): Promise<unknown>;
}

async function insertRows(client: Writer, table: string, rows: Row[]): Promise<void> {
  const columns = COLUMNS[table]!;
  const names = Object.keys(columns);
  for (let start = 0; start < rows.length; start += 10_000) {
    const batch = rows.slice(start, start + 10_000);
    const params = names.map((name) => batch.map((row) => row[name] ?? null));
    const unnest = names.map((name, index) => `$${index + 1}::${columns[name]}[]`).join(', ');
    await client.query(
      `INSERT INTO "${table}" (${names.map((name) => `"${name}"`).join(', ')}) SELECT * FROM unnest(${unnest})`,
      params,
    );
  }
}

export function adminUrl(baseUrl: string): string {
  const url = new URL(baseUrl);
  url.pathname = '/postgres';
  return url.toString();
}

export function databaseUrl(baseUrl: string, database: string): string {
  const url = new URL(baseUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

function signature(options: FixtureOptions): string {
  const range = options.recordsPerImport ?? { min: 50, max: 150 };
  return `flowgraph reads fixture v${FIXTURE_VERSION} seed=${options.seed ?? DEFAULT_SEED} flows=${options.flows} ` +
    `records=${range.min}-${range.max} subject=${options.subjectRecordsPerImport ?? 250}`;
}

/**
 * Writes the fixture into a migrated, empty database through `writer` (the caller owns the transaction): the
 * tests load it into their own PGlite or PostgreSQL database this way.
 */
export async function loadFixture(writer: Writer, options: FixtureOptions): Promise<void> {
  await generate(options, async (tables) => {
    // Parents first: the foreign keys and the tenant triggers check children against them.
    await insertRows(writer, 'crewai_flow_state_extensions', tables.masterFlows);
    await insertRows(writer, 'data_imports', tables.dataImports);
    await insertRows(writer, 'raw_import_records', tables.rawRecords);
    await insertRows(writer, 'discovery_flows', tables.discoveryFlows);
  });
}

/**
 * Makes sure `database` holds exactly this fixture: reuses it when its comment carries the same signature
 * (and the migrations are unchanged), otherwise drops, creates, migrates and loads it.
 */
export async function ensureFixture(baseUrl: string, database: string, options: FixtureOptions): Promise<FixtureSummary> {
  if (!/^fg_bench_[a-z0-9_]+$/.test(database)) throw new Error(`benchmark databases are named fg_bench_*, got ${database}`);
  const wanted = signature(options);
  const admin = new pg.Client({ connectionString: adminUrl(baseUrl) });
  await admin.connect();
  let reuse = false;
  try {
    const { rows } = await admin.query<{ comment: string | null }>(
      `SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1`,
      [database],
    );
    reuse = rows[0]?.comment === wanted;
    if (!reuse) {
      await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      await admin.query(`CREATE DATABASE "${database}"`);
    }
  } finally {
    await admin.end();
  }

  const url = databaseUrl(baseUrl, database);
  const session = await postgresSession(url);
  try {
    const applied = await applyMigrations(session);
    if (reuse && applied.length > 0) {
      // New migrations since the fixture was loaded: load it again on the new schema.
      await session.close();
      await dropDatabase(baseUrl, database);
      return ensureFixture(baseUrl, database, options);
    }
  } finally {
    await session.close().catch(() => {});
  }

  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    let loadedMs: number | null = null;
    if (!reuse) {
      const started = performance.now();
      await client.query('BEGIN');
      await loadFixture(client, options);
      await client.query('COMMIT');
      await client.query('VACUUM (ANALYZE)');
      await client.query(`COMMENT ON DATABASE "${database}" IS ${pg.escapeLiteral(wanted)}`);
      loadedMs = Math.round(performance.now() - started);
    }
    return { ...(await summarize(client, database)), loadedMs };
  } finally {
    await client.end();
  }
}

async function summarize(client: pg.Client, database: string): Promise<Omit<FixtureSummary, 'loadedMs'>> {
  const { rows } = await client.query<{
    flows: number; imports: number; records: number; discovery: number; client_account_id: string; engagement_id: string;
    subject: string;
  }>(`
    SELECT (SELECT count(*)::int FROM crewai_flow_state_extensions) AS flows,
           (SELECT count(*)::int FROM data_imports) AS imports,
           (SELECT count(*)::int FROM raw_import_records) AS records,
           (SELECT count(*)::int FROM discovery_flows) AS discovery,
           m.client_account_id, m.engagement_id, m.flow_id AS subject
      FROM crewai_flow_state_extensions m ORDER BY m.created_at ASC LIMIT 1`);
  const row = rows[0];
  if (!row) throw new Error(`${database} holds no master flow`);
  return {
    database,
    flows: row.flows,
    imports: row.imports,
    rawRecords: row.records,
    discoveryFlows: row.discovery,
    tenant: { clientAccountId: row.client_account_id, engagementId: row.engagement_id, userId: 'bench-user' },
    subjectFlowId: row.subject,
  };
}

export async function dropDatabase(baseUrl: string, database: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl(baseUrl) });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}
