// Human-readable forms of the integrity report and the repair report (the --json forms are the objects).
import type { IntegrityReport } from '../services/integrity-report.ts';
import type { RepairReport } from '../services/legacy-repair.ts';

/** Lists longer than this are cut in the text form; --json always has everything. */
const LIST_LIMIT = 20;

function limited<T>(items: T[], line: (item: T) => string, indent = '    '): string[] {
  const lines = items.slice(0, LIST_LIMIT).map((item) => `${indent}${line(item)}`);
  if (items.length > LIST_LIMIT) lines.push(`${indent}… and ${items.length - LIST_LIMIT} more (--json lists all)`);
  return lines;
}

const SHAPES: Record<IntegrityReport['shape'], string> = {
  flowgraph: "flowgraph's own (migrations recorded)",
  legacy: 'the legacy platform\'s (test/fixtures/legacy-schema.sql)',
  repair_in_progress: 'legacy, repair in progress (constraints not yet validated)',
  unrecognised: 'not recognised',
};

export function integrityText(report: IntegrityReport, where: string): string {
  const lines = [`flowgraph doctor: ${where}`, `shape: ${SHAPES[report.shape]}`];
  if (report.shape === 'unrecognised') {
    lines.push('could not inspect this database:', ...report.notes.map((note) => `  - ${note}`));
    return lines.join('\n');
  }
  if (report.shape === 'flowgraph') {
    lines.push(`migrations: ${report.migrations.applied.length} applied${report.migrations.pending.length ? `, pending: ${report.migrations.pending.join(', ')}` : ''}`);
  }
  if (report.tables.length > 0) lines.push(`rows: ${report.tables.map((table) => `${table.table} ${table.rows}`).join(', ')}`);
  if (report.clean) {
    lines.push(`clean: no problem found${report.dataChecked ? '' : ' in the structure (rows not checked)'}`);
    return lines.join('\n');
  }
  const structure = report.problems.filter((problem) => problem.count === null);
  const data = report.problems.filter((problem) => problem.count !== null);
  lines.push(`${report.problems.length} problems`);
  if (structure.length > 0) {
    lines.push(`structure (${structure.length}):`, ...structure.map((problem) => `  - [${problem.kind}] ${problem.message}`));
  }
  if (data.length > 0) {
    lines.push(`rows (${data.length}):`);
    for (const problem of data) {
      lines.push(`  - [${problem.kind}] ${problem.message}`);
      if (problem.sampleIds.length > 0) lines.push(`      e.g. ${problem.sampleIds.join(', ')}`);
    }
  }
  if (report.shape === 'legacy') lines.push('', 'next: `npm run repair -- <same database>` shows what the repair would change (dry run).');
  return lines.join('\n');
}

export function repairText(report: RepairReport, where: string): string {
  const lines = [`flowgraph repair: ${where}`, `shape: ${SHAPES[report.shape]}`];
  if (report.outcome === 'nothing_to_do') {
    lines.push('nothing to do: this database is already in flowgraph\'s shape.');
    if (report.laterMigrations.length > 0) lines.push(`pending migrations (npm start or npm run db:migrate applies them): ${report.laterMigrations.join(', ')}`);
    return lines.join('\n');
  }
  if (report.outcome === 'refused') {
    lines.push(
      `REFUSED: ${report.blocking.length} problems need a decision only a person can make; nothing was ${report.dryRun ? 'planned' : 'changed'}.`,
    );
    for (const problem of report.blocking) {
      lines.push(`  - [${problem.kind}] ${problem.message}`);
      if (problem.ids.length > 0) lines.push(`      ids: ${problem.ids.join(', ')}`);
    }
    return lines.join('\n');
  }
  lines.push(
    report.dryRun
      ? 'DRY RUN: nothing was changed. Run again with --apply to make exactly these changes.'
      : report.outcome === 'finished'
        ? 'FINISHED an interrupted repair.'
        : 'APPLIED.',
  );

  if (report.tables.length > 0) {
    lines.push('', 'links per table (to link = orphans + wrong references = linked + adopted):');
    lines.push(`  ${'table'.padEnd(20)}${'rows'.padStart(10)}${'correct'.padStart(10)}${'orphans'.padStart(10)}${'wrong'.padStart(8)}${'linked'.padStart(10)}${'adopted'.padStart(10)}${'tenant filled'.padStart(15)}`);
    for (const table of report.tables) {
      lines.push(
        `  ${table.table.padEnd(20)}${String(table.rows).padStart(10)}${String(table.alreadyLinked).padStart(10)}${String(table.orphans).padStart(10)}` +
          `${String(table.wrongReferences).padStart(8)}${String(table.linked).padStart(10)}${String(table.adopted).padStart(10)}${String(table.tenantFilled).padStart(15)}`,
      );
    }
    lines.push('  linked, by the rule that supports the link (a link several rules support counts under each):');
    for (const table of report.tables) {
      const rules = Object.entries(table.linkedByRule).filter(([, count]) => count > 0);
      if (rules.length > 0) lines.push(`    ${table.table}: ${rules.map(([rule, count]) => `${rule} ${count}`).join(', ')}`);
    }
    lines.push('  adopted, by reason:');
    for (const table of report.tables) {
      const reasons = Object.entries(table.adoptedByReason).filter(([, count]) => count > 0);
      if (reasons.length > 0) lines.push(`    ${table.table}: ${reasons.map(([reason, count]) => `${reason} ${count}`).join(', ')}`);
    }
    const ambiguous = report.tables.flatMap((table) => table.ambiguous.map((item) => ({ table: table.table, ...item })));
    if (ambiguous.length > 0) {
      lines.push('', `ambiguous: the evidence names several master flows (or contradicts itself), so these are adopted (${ambiguous.length}):`);
      lines.push(...limited(ambiguous, (item) => `${item.table} ${item.id}${item.rows > 1 ? ` (${item.rows} rows)` : ''}: candidates ${item.candidates.join(', ')}`));
    }
    const referenceOnly = report.tables.flatMap((table) => table.referenceOnlyIds.map((item) => ({ table: table.table, ...item })));
    if (referenceOnly.length > 0) {
      lines.push(
        '',
        `kept on their own master_flow_id alone: nothing confirms or contradicts it; check them if an earlier backfill guessed links (${referenceOnly.length}):`,
      );
      lines.push(...limited(referenceOnly, (item) => `${item.table} ${item.id}${item.rows > 1 ? ` (${item.rows} rows)` : ''}: master flow ${item.candidates.join(', ')}`));
    }
    const conflicts = report.tables.flatMap((table) => table.tenantConflicts.map((item) => ({ table: table.table, ...item })));
    if (conflicts.length > 0) {
      lines.push('', `tenant conflicts: evidence naming another tenant's master flow is not a link (${conflicts.length}):`);
      lines.push(...limited(conflicts, (item) => `${item.table} ${item.id}${item.rows > 1 ? ` (${item.rows} rows)` : ''}: other tenant's ${item.otherTenantFlowIds.join(', ')}`));
    }
  }
  if (report.clearedImportReferences.length > 0) {
    lines.push('', `discovery flows whose data_import_id is cleared (${report.clearedImportReferences.length}):`);
    lines.push(
      ...limited(report.clearedImportReferences, (item) =>
        `${item.discoveryFlowId}: was ${item.dataImportId} (${item.reason === 'missing_import' ? 'no such import' : "another tenant's import"})`,
      ),
    );
  }
  if (report.statusMappings.length > 0) {
    lines.push('', 'status values mapped to ones flowgraph allows:');
    lines.push(...limited(report.statusMappings, (item) => `${item.table}.${item.column}: ${JSON.stringify(item.from)} → ${JSON.stringify(item.to)} (${item.rule}, ${item.rows} rows)`));
  }
  if (report.phaseFixes.length > 0) {
    lines.push('', 'discovery flows whose phase or progress is derived from their completion flags (the stored value is not allowed):');
    lines.push(
      ...limited(report.phaseFixes, (fix) =>
        [
          fix.id,
          fix.currentPhase ? `current_phase ${JSON.stringify(fix.currentPhase.from)} → ${JSON.stringify(fix.currentPhase.to)}` : '',
          fix.progressPercentage ? `progress ${fix.progressPercentage.from} → ${fix.progressPercentage.to}` : '',
        ]
          .filter(Boolean)
          .join(' '),
      ),
    );
  }
  if (report.adoptedMasterFlows.length > 0) {
    lines.push('', `master flows ${report.dryRun ? 'to adopt' : 'adopted'} (${report.adoptedMasterFlows.length}), each marked recovered in flow_configuration:`);
    lines.push(
      ...limited(report.adoptedMasterFlows, (flow) =>
        `${flow.flowId} tenant ${flow.clientAccountId}/${flow.engagementId} ${flow.flowStatus} ${String(flow.flowConfiguration.recovery_reason)}: ${flow.flowName}`,
      ),
    );
  }
  if (report.rowCounts.length > 0) {
    lines.push('', `rows per table, before → after${report.verified ? ' (counted after the repair)' : ''}:`);
    lines.push(...report.rowCounts.map((count) => `    ${count.table}: ${count.before} → ${count.after}`));
  }
  if (report.kept.length > 0) {
    lines.push('', 'kept as they are (not part of flowgraph\'s schema):', ...report.kept.map((item) => `    ${item}`));
  }
  const stage = (name: 'link' | 'validate' | 'finish', title: string) => {
    const statements = report.statements.filter((statement) => statement.stage === name);
    const sql = (text: string) => `${text.replace(/^/gm, '    ')}${text.startsWith('--') ? '' : ';'}`;
    if (statements.length > 0) lines.push('', title, ...statements.map((statement) => sql(statement.sql)));
  };
  stage('link', 'SQL, link stage (one transaction, under exclusive locks, with the data changes where marked):');
  stage('validate', 'SQL, validate stage (one statement at a time; no exclusive lock during the scans):');
  stage('finish', 'SQL, finish stage (one transaction; then the first migration is recorded in _prisma_migrations):');
  if (report.laterMigrations.length > 0) {
    lines.push('', `${report.dryRun ? 'then the later migrations are applied' : 'later migrations applied'}: ${report.laterMigrations.join(', ')}`);
  }
  const durations = Object.entries(report.durationsMs);
  if (durations.length > 0) {
    const label: Record<string, string> = { link: 'link stage (exclusive locks held)' };
    lines.push('', `durations: ${durations.map(([stage, ms]) => `${label[stage] ?? stage} ${(ms / 1000).toFixed(1)} s`).join(', ')}`);
  }
  if (!report.dryRun) lines.push('', 'next: `npm run doctor` should now report clean, and `npm start` serves this database.');
  return lines.join('\n');
}
