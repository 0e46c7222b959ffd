// Builds flow graphs straight through Prisma, for tests of the read side. (Writes through the API are
// tested with the API.)
import { randomUUID } from 'node:crypto';
import type { Viewer } from '../../src/context.ts';
import { DISCOVERY_PHASES, PHASE_COMPLETED_FIELD, nextPhase, progressPercentage, type PhaseFlags } from '../../src/domain/discovery-phases.ts';
import type { PrismaClient } from '../../src/generated/prisma/client.ts';

/**
 * A fresh tenant and a user of it, an admin (every operation allowed; tests narrow roles with
 * `{ ...tenant, roles: [...] }`). `roles` is not enumerable, so spreading a tenant into Prisma data
 * copies only its tenant and user columns.
 */
export function newTenant(userId = 'tester'): Viewer {
  const viewer = { clientAccountId: randomUUID(), engagementId: randomUUID(), userId } as Viewer;
  Object.defineProperty(viewer, 'roles', { value: ['admin'], enumerable: false, writable: true });
  return viewer;
}

export interface FlowGraphSpec {
  flowName?: string;
  flowType?: string;
  flowStatus?: string;
  imports?: number;
  recordsPerImport?: number;
  /** Row numbers (1-based, in every import) stored as invalid. */
  invalidRows?: number[];
  completedPhases?: number;
  createdAt?: Date;
}

export interface CreatedFlowGraph {
  flowId: string;
  dataImportIds: string[];
  discoveryFlowId: string | null;
}

export async function createFlowGraph(prisma: PrismaClient, tenant: Viewer, spec: FlowGraphSpec = {}): Promise<CreatedFlowGraph> {
  const flowId = randomUUID();
  const imports = spec.imports ?? 1;
  const records = spec.recordsPerImport ?? 3;
  const dataImportIds = Array.from({ length: imports }, () => randomUUID());
  const owner = { clientAccountId: tenant.clientAccountId, engagementId: tenant.engagementId };
  const createdAt = spec.createdAt ?? new Date();
  const flowType = spec.flowType ?? 'discovery';
  let discoveryFlowId: string | null = null;

  await prisma.$transaction(async (tx) => {
    await tx.masterFlow.create({
      data: {
        ...owner,
        flowId,
        userId: tenant.userId,
        flowType,
        flowName: spec.flowName ?? `Discovery Import ${dataImportIds[0] ?? flowId}`,
        flowStatus: spec.flowStatus ?? 'running',
        flowConfiguration: dataImportIds[0] ? { data_import_id: dataImportIds[0] } : {},
        createdAt,
      },
    });
    for (const [index, id] of dataImportIds.entries()) {
      await tx.dataImport.create({
        data: {
          ...owner,
          id,
          masterFlowId: flowId,
          importName: `import ${index + 1}`,
          importType: 'servers',
          filename: `file-${index + 1}.csv`,
          status: 'completed',
          totalRecords: records,
          processedRecords: records,
          failedRecords: (spec.invalidRows ?? []).filter((row) => row <= records).length,
          importedBy: tenant.userId,
          createdAt: new Date(createdAt.getTime() + index),
        },
      });
      if (records > 0) {
        await tx.rawImportRecord.createMany({
          data: Array.from({ length: records }, (_unused, row) => {
            const invalid = (spec.invalidRows ?? []).includes(row + 1);
            return {
              ...owner,
              dataImportId: id,
              masterFlowId: flowId,
              rowNumber: row + 1,
              rawData: { hostname: `host-${index + 1}-${row + 1}`, cores: row + 1 },
              isValid: !invalid,
              validationErrors: invalid ? [{ message: 'invalid row' }] : undefined,
            };
          }),
        });
      }
    }
    if (flowType === 'discovery') {
      const completed = spec.completedPhases ?? 1;
      const flags = Object.fromEntries(
        DISCOVERY_PHASES.map((phase, index) => [PHASE_COMPLETED_FIELD[phase], index < completed]),
      ) as PhaseFlags;
      const discovery = await tx.discoveryFlow.create({
        data: {
          ...owner,
          flowId,
          masterFlowId: flowId,
          userId: tenant.userId,
          dataImportId: dataImportIds[0] ?? null,
          status: 'active',
          currentPhase: nextPhase(flags),
          progressPercentage: progressPercentage(flags),
          ...flags,
          phaseState: Object.fromEntries(
            DISCOVERY_PHASES.slice(0, completed).map((phase) => [phase, { completedAt: createdAt.toISOString() }]),
          ),
        },
      });
      discoveryFlowId = discovery.id;
    }
  });
  return { flowId, dataImportIds, discoveryFlowId };
}
