// Waiting in tests for something another process or socket does, by looking again every 10 ms: for state
// with no event to wait on (the hub's subscriber count, frames collected by a raw socket).

/** Resolves once `predicate` holds; fails naming `what` after about 10 s (1,000 looks, 10 ms apart). */
export async function until(predicate: () => boolean, what: string): Promise<void> {
  for (let attempt = 0; !predicate(); attempt += 1) {
    if (attempt > 1_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
