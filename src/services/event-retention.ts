// Keeps the flow event log to its retention period (FLOWGRAPH_EVENT_RETENTION): a periodic job of every
// process. Several instances pruning at once is harmless: each deletes what is old, and the watermark only
// moves forward.
import type { PrismaClient } from '../generated/prisma/client.ts';
import { pruneFlowEvents } from './event-log.ts';
import type { HubLogger } from './flow-event-hub.ts';

export interface PruningJob {
  /** Prunes now (also what the timer runs); resolves with the number of events deleted. */
  runOnce(): Promise<number>;
  stop(): Promise<void>;
}

export function startEventPruning(
  prisma: PrismaClient,
  options: { retentionMs: number; intervalMs: number; logger?: HubLogger },
): PruningJob {
  let running: Promise<number> | undefined;
  let stopped = false;
  const runOnce = () => {
    running ??= pruneFlowEvents(prisma, options.retentionMs)
      .then(({ deleted }) => {
        if (deleted > 0) options.logger?.info(`pruned ${deleted} flow events older than the retention period`);
        return deleted;
      })
      .finally(() => (running = undefined));
    return running;
  };
  const tick = () => {
    if (stopped) return;
    runOnce().catch((error: unknown) => options.logger?.error('pruning flow events failed; trying again later', error));
  };
  // Once at start as well, so that a process restarted more often than the interval still prunes.
  setImmediate(tick).unref();
  const timer = setInterval(tick, options.intervalMs);
  // The job never keeps the process alive on its own.
  timer.unref();
  return {
    runOnce,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running?.catch(() => {});
    },
  };
}
