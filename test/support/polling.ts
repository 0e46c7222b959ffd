// Waiting in tests for something another process or socket does, by looking again every 10 ms: for state
// with no event to wait on (the hub's subscriber count, frames collected by a raw socket).

/** Resolves once `predicate` holds; fails naming `what` after `attempts` looks 10 ms apart (about 10 s). */
export async function until(predicate: () => boolean, what: string, attempts = 1_000): Promise<void> {
  for (let attempt = 0; !predicate(); attempt += 1) {
    if (attempt > attempts) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
