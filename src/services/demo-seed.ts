// A small demo tenant, written into an empty database by `npm start` so GraphiQL has a graph to show.
import { randomUUID } from 'node:crypto';
import type { Viewer } from '../context.ts';
import { DISCOVERY_PHASES, PHASE_COMPLETED_FIELD, progressPercentage, nextPhase, type PhaseFlags } from '../domain/discovery-phases.ts';
import type { PrismaClient } from '../generated/prisma/client.ts';

export const DEMO_VIEWER: Viewer = {
  clientAccountId: '11111111-1111-4111-8111-111111111111',
  engagementId: '22222222-2222-4222-8222-222222222222',
  userId: 'demo-user',
  roles: ['admin'],
};

const SERVERS = ['app-01', 'app-02', 'db-01', 'db-02', 'web-01', 'web-02', 'cache-01', 'batch-01'];

function flagsUpTo(completedPhases: number): PhaseFlags {
  return Object.fromEntries(
    DISCOVERY_PHASES.map((phase, index) => [PHASE_COMPLETED_FIELD[phase], index < completedPhases]),
  ) as PhaseFlags;
}

/** Writes the demo tenant when the database holds no master flow at all. Returns whether it did. */
export async function seedDemoTenant(prisma: PrismaClient): Promise<boolean> {
  if ((await prisma.masterFlow.count()) > 0) return false;
  const tenant = { clientAccountId: DEMO_VIEWER.clientAccountId, engagementId: DEMO_VIEWER.engagementId };
  const base = Date.parse('2026-01-05T09:00:00Z');

  await prisma.$transaction(async (tx) => {
    const flows = [
      { name: 'CMDB export, data centre 1', status: 'running', completedPhases: 2, invalidRows: [4] },
      { name: 'Server inventory, data centre 2', status: 'paused', completedPhases: 1, invalidRows: [] as number[] },
    ];
    for (const [index, spec] of flows.entries()) {
      const flowId = randomUUID();
      const dataImportId = randomUUID();
      const at = new Date(base + index * 3_600_000);
      const transitions = [
        { from: null, to: 'running', at: at.toISOString(), by: DEMO_VIEWER.userId },
        ...(spec.status === 'paused'
          ? [{ from: 'running', to: 'paused', at: new Date(at.getTime() + 600_000).toISOString(), by: DEMO_VIEWER.userId }]
          : []),
      ];
      await tx.masterFlow.create({
        data: {
          ...tenant,
          flowId,
          userId: DEMO_VIEWER.userId,
          flowType: 'discovery',
          flowName: `Discovery Import ${dataImportId}`,
          flowStatus: spec.status,
          flowConfiguration: { data_import_id: dataImportId, label: spec.name },
          phaseTransitions: transitions,
          version: transitions.length,
          createdAt: at,
        },
      });
      const rows = SERVERS.map((hostname, row) => ({
        hostname: `${hostname}.dc${index + 1}.example`,
        os: row % 2 ? 'Ubuntu 22.04' : 'RHEL 9',
        cpu_cores: 2 ** ((row % 3) + 1),
      }));
      await tx.dataImport.create({
        data: {
          ...tenant,
          id: dataImportId,
          masterFlowId: flowId,
          importName: spec.name,
          importType: 'servers',
          importCategory: 'infrastructure',
          filename: `servers-dc${index + 1}.csv`,
          fileSize: 4_096 + index,
          mimeType: 'text/csv',
          sourceSystem: 'ServiceNow',
          status: 'completed',
          progressPercentage: 100,
          totalRecords: rows.length,
          processedRecords: rows.length,
          failedRecords: spec.invalidRows.length,
          importedBy: DEMO_VIEWER.userId,
          startedAt: at,
          completedAt: at,
          createdAt: at,
        },
      });
      await tx.rawImportRecord.createMany({
        data: rows.map((row, position) => {
          const invalid = spec.invalidRows.includes(position + 1);
          return {
            ...tenant,
            dataImportId,
            masterFlowId: flowId,
            rowNumber: position + 1,
            rawData: invalid ? { ...row, hostname: '' } : row,
            isValid: !invalid,
            validationErrors: invalid ? [{ field: 'hostname', message: 'hostname is empty' }] : undefined,
          };
        }),
      });
      const flags = flagsUpTo(spec.completedPhases);
      const phaseState = Object.fromEntries(
        DISCOVERY_PHASES.slice(0, spec.completedPhases).map((phase, step) => [
          phase,
          { completedAt: new Date(at.getTime() + step * 300_000).toISOString() },
        ]),
      );
      await tx.discoveryFlow.create({
        data: {
          ...tenant,
          flowId,
          masterFlowId: flowId,
          userId: DEMO_VIEWER.userId,
          dataImportId,
          flowName: spec.name,
          status: spec.status === 'paused' ? 'paused' : 'active',
          currentPhase: nextPhase(flags),
          progressPercentage: progressPercentage(flags),
          ...flags,
          phaseState,
          createdAt: at,
        },
      });
    }
    await tx.masterFlow.create({
      data: {
        ...tenant,
        flowId: randomUUID(),
        userId: DEMO_VIEWER.userId,
        flowType: 'assessment',
        flowName: 'Wave 1 assessment',
        flowStatus: 'initialized',
        createdAt: new Date(base + 3 * 3_600_000),
      },
    });
  });
  return true;
}
