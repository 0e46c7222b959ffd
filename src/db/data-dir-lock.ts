// One process per embedded data directory. PGlite is PostgreSQL in single-user mode inside this process: it
// writes no postmaster.pid and shares no memory, so a second process that opens the same directory (doctor
// next to a running server, a second `npm start`) writes over the first one's files, and the directory can
// be left unopenable. Every entry point (server, db:migrate, doctor, repair) therefore takes this lock before
// it opens a data directory, and a second one is refused at once, naming the directory and the holder.
//
// The lock is a Unix domain socket in the data directory that the holder listens on. Whether the lock is held
// is asked of the kernel: connecting succeeds only while the holding process is alive (even when it is
// stopped, as the kernel queues the connection), and is refused once it has died, however it died. A
// process killed with SIGKILL leaves the socket file behind, refused, and the next process takes it over at
// once. Who holds it (pid and command, for the refusal's message) is written beside the socket by the holder
// while it takes the lock, and also answered on each connection: a holder whose event loop is busy (PGlite's
// WASM work is synchronous) may answer late, the file is read at once.
//
// Written here rather than taken from a lock library: proper-lockfile (the well-kept one) decides staleness
// by the lock's age, so a start right after a SIGKILL is refused until the lock is older than its `stale`
// setting, and a holder whose event loop is blocked for longer than that (long synchronous WASM work inside
// PGlite) loses its lock to the next process; it also records no pid. A pid file with a liveness check
// (kill(pid, 0)) misjudges a reused pid, which is the rule in containers, where every start is pid 1 or
// close to it. Real advisory locks (flock) need a native addon.
//
// Taking a stale lock over is serialised by a directory made with mkdir (atomic): two processes that both
// find the lock stale cannot both take it. The check is repeated inside that section.
import { mkdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { closeSync, openSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** The socket's name inside the data directory. */
export const LOCK_SOCKET = '.flowgraph.lock';
/** Who holds the lock: `{ "pid": …, "command": … }`, read only while the socket answers. */
const HOLDER_FILE = '.flowgraph.lock-holder.json';
const TAKING = '.flowgraph.lock-taking';
/** A taking-over directory older than this was left by a process that died in that section (it lasts ms). */
const TAKING_STALE_MS = 10_000;
/** How long to wait for another process that is taking the lock over at the same moment. */
const TAKING_WAIT_MS = 3_000;
/** How long to wait for the holder to say who it is (a stopped process never answers). */
const HOLDER_ANSWER_MS = 1_000;
/** Longest socket path that fits in sun_path with room to spare (108 bytes on Linux, 104 on macOS). */
const MAX_SOCKET_PATH = 100;

export interface LockHolder {
  pid: number;
  command: string;
}

export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError';
  constructor(
    readonly dataDir: string,
    readonly holder: LockHolder | null,
  ) {
    const who = holder ? `another flowgraph process (${holder.command}, pid ${holder.pid})` : 'another process (it did not say which)';
    super(
      `the embedded database ${dataDir} is in use by ${who}. Only one process may open a PGlite data directory at a ` +
        'time: stop that process first (several instances need PostgreSQL, DATABASE_URL). Nothing was changed.',
    );
  }
}

export interface DataDirLock {
  readonly dataDir: string;
  /** Gives the lock up (the socket file is removed). */
  release(): Promise<void>;
}

/** The socket's address: its path, or for a deep directory a short path through an open descriptor (Linux). */
function socketAddress(dataDir: string): { address: string; close(): void } {
  const direct = path.join(dataDir, LOCK_SOCKET);
  if (Buffer.byteLength(direct) <= MAX_SOCKET_PATH) return { address: direct, close() {} };
  if (process.platform !== 'linux') throw new Error(`the data directory path is too long for its lock socket: ${dataDir}`);
  const fd = openSync(dataDir, 'r');
  return { address: `/proc/self/fd/${fd}/${LOCK_SOCKET}`, close: () => closeSync(fd) };
}

type Probe = { state: 'free' } | { state: 'stale' } | { state: 'held'; socket: net.Socket };

function probe(address: string): Promise<Probe> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(address);
    socket.once('connect', () => resolve({ state: 'held', socket }));
    socket.once('error', (error: NodeJS.ErrnoException) => {
      socket.destroy();
      if (error.code === 'ENOENT') resolve({ state: 'free' });
      else if (error.code === 'ECONNREFUSED') resolve({ state: 'stale' });
      else reject(new Error(`cannot check the lock of the data directory (${error.code ?? error.message})`));
    });
  });
}

function parseHolder(text: string): LockHolder | null {
  try {
    const parsed = JSON.parse(text) as Partial<LockHolder>;
    return typeof parsed.pid === 'number' ? { pid: parsed.pid, command: String(parsed.command ?? 'flowgraph') } : null;
  } catch {
    return null;
  }
}

function holderOf(socket: net.Socket): Promise<LockHolder | null> {
  return new Promise((resolve) => {
    let text = '';
    const done = (holder: LockHolder | null) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(holder);
    };
    const timer = setTimeout(() => done(null), HOLDER_ANSWER_MS);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.once('error', () => done(null));
    socket.once('end', () => done(parseHolder(text)));
  });
}

/** Runs `section` while holding the taking-over directory, so that only one process at a time decides. */
async function exclusively<T>(dataDir: string, section: () => Promise<T>): Promise<T> {
  const taking = path.join(dataDir, TAKING);
  const deadline = Date.now() + TAKING_WAIT_MS;
  for (;;) {
    try {
      await mkdir(taking);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const age = await stat(taking).then((info) => Date.now() - info.mtimeMs, () => 0);
      if (age > TAKING_STALE_MS) await rm(taking, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`another process is taking the lock of ${dataDir}; try again`);
      else await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  try {
    return await section();
  } finally {
    await rm(taking, { recursive: true, force: true });
  }
}

/**
 * Takes the lock of a data directory (which must exist), or throws DataDirLockedError when a live process
 * holds it. `command` names this process in another one's refusal ("server", "doctor", …).
 */
export async function lockDataDir(dataDir: string, command: string): Promise<DataDirLock> {
  const { address, close } = socketAddress(dataDir);
  const holderFile = path.join(dataDir, HOLDER_FILE);
  const me = JSON.stringify({ pid: process.pid, command });
  try {
    const server = await exclusively(dataDir, async () => {
      const found = await probe(address);
      if (found.state === 'held') {
        // Written by the live holder inside this same section, so it names that holder.
        const holder = parseHolder(await readFile(holderFile, 'utf8').catch(() => ''));
        return { socket: found.socket, holder };
      }
      if (found.state === 'stale') await unlink(address).catch(() => {});
      const listening = net.createServer((socket) => {
        socket.on('error', () => {});
        socket.end(me);
      });
      await new Promise<void>((resolve, reject) => {
        listening.once('error', reject);
        listening.listen(address, () => {
          listening.off('error', reject);
          resolve();
        });
      });
      // The lock must not keep the process alive by itself.
      listening.unref();
      await writeFile(holderFile, me);
      return listening;
    });
    if (!(server instanceof net.Server)) {
      if (server.holder) server.socket.destroy();
      throw new DataDirLockedError(dataDir, server.holder ?? (await holderOf(server.socket)));
    }
    let released: Promise<void> | undefined;
    return {
      dataDir,
      release() {
        // The holder file goes first, while the lock is still held: once the socket is closed another
        // process may take the lock and write its own. Closing the socket removes its file (libuv unlinks it).
        released ??= rm(holderFile, { force: true })
          .then(() => new Promise<void>((resolve) => server.close(() => resolve())))
          .finally(close);
        return released;
      },
    };
  } catch (error) {
    close();
    throw error;
  }
}
