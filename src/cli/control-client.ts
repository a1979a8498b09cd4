/**
 * The client side of the control protocol (control-protocol.ts), used by the client commands, the
 * demo and the tests: one request and its response, or a watch stream.
 */
import { connect, type Socket } from 'node:net';
import { CliError, EXIT } from './cli-error.js';
import type { ControlRequest, ControlResponse } from './control-protocol.js';
import { LineSplitter } from './line-splitter.js';

/** Responses are trusted (the member is ours) but still bounded: a `state` of a large group can be big. */
const MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

/** Connects to a member's control socket; a missing or refused socket is "no member is running". */
export function connectControl(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    const onError = (err: NodeJS.ErrnoException): void => {
      socket.destroy();
      reject(connectError(path, err));
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

function connectError(path: string, err: NodeJS.ErrnoException): CliError {
  switch (err.code) {
    case 'ENOENT':
    case 'ECONNREFUSED':
    case 'ENOTSOCK':
      return new CliError(`no member is running at ${path}`, EXIT.FAILURE, 'NO_MEMBER');
    case 'EACCES':
    case 'EPERM':
      return new CliError(
        `permission denied on ${path}: the member runs as another user`,
        EXIT.FAILURE,
        'PERMISSION_DENIED',
      );
    default:
      return new CliError(`cannot connect to ${path}: ${err.message}`, EXIT.FAILURE, 'NO_MEMBER');
  }
}

/** Sends one request and resolves with its response; rejects with a {@link CliError} after `timeoutMs`. */
export async function controlRequest(
  path: string,
  request: ControlRequest,
  timeoutMs: number,
): Promise<ControlResponse> {
  const socket = await connectControl(path);
  try {
    return await new Promise<ControlResponse>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new CliError(
              `the member at ${path} did not answer within ${timeoutMs} ms`,
              EXIT.FAILURE,
              'NO_ANSWER',
            ),
          ),
        timeoutMs,
      );
      const finish = (fn: () => void): void => {
        clearTimeout(timer);
        fn();
      };
      readLines(socket, {
        line: (response) => finish(() => resolve(response)),
        end: () =>
          finish(() => reject(new CliError(`the member at ${path} closed the connection without answering`))),
        error: (err) =>
          finish(() =>
            reject(
              err instanceof CliError
                ? err
                : new CliError(`connection to the member at ${path} failed: ${err.message}`),
            ),
          ),
      });
      socket.write(`${JSON.stringify(request)}\n`);
    });
  } finally {
    socket.destroy();
  }
}

/** How a watch ended. */
export type WatchEnd =
  | { reason: 'aborted' }
  | { reason: 'refused'; response: Extract<ControlResponse, { ok: false }> }
  | { reason: 'lost' };

/**
 * Sends a `watch` request and hands every line to `onLine` (the `watching` acknowledgement
 * included) until `signal` aborts, the member ends the stream with an error line (such as
 * `SHUTDOWN`), or the connection is lost.
 */
export async function controlWatch(
  path: string,
  request: Extract<ControlRequest, { cmd: 'watch' }>,
  onLine: (response: Extract<ControlResponse, { ok: true }>) => void,
  signal?: AbortSignal,
): Promise<WatchEnd> {
  if (signal?.aborted) return { reason: 'aborted' };
  const socket = await connectControl(path);
  return new Promise<WatchEnd>((resolve) => {
    let ended: WatchEnd | null = null;
    const onAbort = (): void => {
      ended ??= { reason: 'aborted' };
      socket.destroy();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    readLines(socket, {
      line: (response) => {
        if (response.ok) onLine(response);
        else ended ??= { reason: 'refused', response };
      },
      end: () => {
        signal?.removeEventListener('abort', onAbort);
        resolve(ended ?? { reason: 'lost' });
      },
      error: () => {
        ended ??= { reason: 'lost' };
        socket.destroy();
      },
    });
    socket.write(`${JSON.stringify(request)}\n`);
  });
}

/** Feeds each JSON line to `line`; `end` once the socket has closed (after any error). */
function readLines(
  socket: Socket,
  handlers: { line: (response: ControlResponse) => void; end: () => void; error: (err: Error) => void },
): void {
  const splitter = new LineSplitter(MAX_RESPONSE_BYTES);
  socket.on('data', (chunk: Buffer) => {
    let lines: string[];
    try {
      lines = splitter.push(chunk);
    } catch (err) {
      handlers.error(err as Error);
      return;
    }
    for (const text of lines) {
      let response: ControlResponse;
      try {
        response = JSON.parse(text) as ControlResponse;
      } catch {
        handlers.error(new CliError('the member sent a line that is not JSON'));
        return;
      }
      handlers.line(response);
    }
  });
  socket.on('error', (err) => handlers.error(err));
  socket.once('close', () => handlers.end());
}
