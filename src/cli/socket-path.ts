import { lstat, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { CliError } from './cli-error.js';

/**
 * The longest Unix socket path the OS accepts, in bytes: `sun_path` is 108 bytes on Linux and 104
 * on macOS and the BSDs, including the terminating NUL.
 */
export const MAX_SOCKET_PATH_BYTES = process.platform === 'linux' ? 107 : 103;

/** Refuses a path the OS would truncate or reject, with a hint instead of a bare EINVAL. */
export function checkSocketPathLength(path: string): void {
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    throw new CliError(
      `control socket path is ${bytes} bytes, more than the ${MAX_SOCKET_PATH_BYTES} a Unix socket allows: ${path}; pass a shorter --control <path>`,
    );
  }
}

/** What is at a socket path: a live member, a stale socket file left by a crash, nothing, or something else. */
export async function probeSocket(path: string): Promise<'live' | 'stale' | 'absent' | 'not-a-socket'> {
  let isSocket: boolean;
  try {
    isSocket = (await lstat(path)).isSocket();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw err;
  }
  if (!isSocket) return 'not-a-socket';
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve('live');
    });
    // ECONNREFUSED: the file exists but nobody listens, as after a SIGKILL.
    socket.once('error', () => resolve('stale'));
  });
}

/**
 * Makes `path` free for a new listener: removes a stale socket left by a member that was killed;
 * refuses when a member is still listening there or the path holds something that is not a socket.
 */
export async function claimSocketPath(path: string): Promise<void> {
  checkSocketPathLength(path);
  const state = await probeSocket(path);
  if (state === 'live') throw new CliError(`another member is already running at ${path}`);
  if (state === 'not-a-socket')
    throw new CliError(`${path} exists and is not a socket; remove it or pass another --control`);
  if (state === 'stale') await unlink(path).catch(() => undefined);
}
