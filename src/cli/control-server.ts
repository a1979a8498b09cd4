/**
 * The member side of the control protocol (control-protocol.ts): a Unix domain socket served by
 * `mqtt-raft node`, turning each request line into a call on the member's {@link RaftBinding}.
 */
import { chmod } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import type { Input, RaftBinding } from '../binding/index.js';
import { isRaftError } from '../errors.js';
import { CliError } from './cli-error.js';
import { answerMemberRequest, isMemberRequest, type MemberTarget } from './control-members.js';
import {
  type ControlErrorBody,
  type ControlResponse,
  DEFAULT_PROPOSE_TIMEOUT_MS,
  decodeValue,
  encodeValue,
  MAX_REQUEST_BYTES,
} from './control-protocol.js';
import { ControlRequestSchema, type ParsedControlRequest } from './control-schemas.js';
import { streamWatch, type WatchTarget } from './control-watch.js';
import { LineSplitter } from './line-splitter.js';
import { claimSocketPath } from './socket-path.js';

/** What the control server needs of a member. */
export type ControlTarget = MemberTarget &
  Pick<RaftBinding, 'proposeInput' | 'get' | 'getIndexedState' | 'status'> &
  WatchTarget;

/** A listening control socket. */
export interface ControlServer {
  /** The socket's absolute path. */
  readonly path: string;
  /**
   * Stops accepting connections, ends every watch with a `SHUTDOWN` line and closes idle
   * connections; a request in progress still gets its response, then its connection is closed.
   */
  stop(): void;
  /** Stops, ends every connection still open and resolves once the socket file is gone. */
  close(): Promise<void>;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Listens on `path` (removing a stale socket left by a killed member first; refusing when another
 * member listens there) with permissions 0600, so only the member's user can control it.
 */
export async function startControlServer(path: string, target: ControlTarget): Promise<ControlServer> {
  await claimSocketPath(path);
  const connections = new Set<ControlConnection>();
  let stopping = false;
  const server = createServer((socket) => {
    if (stopping) {
      socket.destroy();
      return;
    }
    const connection = new ControlConnection(socket, target);
    connections.add(connection);
    socket.once('close', () => connections.delete(connection));
  });
  try {
    await listen(server, path);
  } catch (err) {
    throw new CliError(`cannot listen on control socket ${path}: ${(err as Error).message}`);
  }
  // The umask may leave the socket connectable by other users: a control socket can change the state.
  await chmod(path, 0o600).catch(() => undefined);
  server.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => server.once('close', () => resolve()));

  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    server.close();
    for (const connection of connections) connection.shutdown();
  };
  return {
    path,
    stop,
    async close() {
      stop();
      for (const connection of connections) connection.destroy();
      await closed;
    },
  };
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** One client connection: requests are answered one at a time, in order, until a `watch` takes it over. */
class ControlConnection {
  private readonly splitter = new LineSplitter(MAX_REQUEST_BYTES);
  private chain: Promise<void> = Promise.resolve();
  private watch: AbortController | null = null;
  private busy = false;
  private shuttingDown = false;
  private closed = false;

  constructor(
    private readonly socket: Socket,
    private readonly target: ControlTarget,
  ) {
    socket.on('data', (chunk: Buffer) => this.received(chunk));
    // A client that vanishes mid-write (EPIPE, ECONNRESET) is simply gone.
    socket.on('error', () => undefined);
    socket.once('close', () => {
      this.closed = true;
      this.watch?.abort();
    });
  }

  /** See {@link ControlServer.stop}. */
  shutdown(): void {
    this.shuttingDown = true;
    if (this.watch !== null) {
      this.watch.abort();
      this.send({ ok: false, error: { code: 'SHUTDOWN', message: 'the member is shutting down' } });
      this.socket.end();
    } else if (!this.busy) {
      this.socket.end();
    }
  }

  destroy(): void {
    this.socket.destroy();
  }

  private received(chunk: Buffer): void {
    if (this.watch !== null || this.closed) return; // a watching connection reads no more requests
    let lines: string[];
    try {
      lines = this.splitter.push(chunk);
    } catch (err) {
      this.send({ ok: false, error: { code: 'BAD_REQUEST', message: (err as Error).message } });
      this.socket.end();
      this.closed = true;
      return;
    }
    for (const line of lines) {
      if (line.trim() === '') continue;
      this.chain = this.chain.then(() => this.handleLine(line));
    }
  }

  private async handleLine(line: string): Promise<void> {
    if (this.closed || this.watch !== null) return;
    this.busy = true;
    try {
      const request = parseRequest(line);
      if ('error' in request) {
        this.send({ ok: false, error: request.error });
      } else if (this.shuttingDown) {
        this.send(
          withId(request.value, {
            ok: false,
            error: { code: 'SHUTDOWN', message: 'the member is shutting down' },
          }),
        );
      } else if (request.value.cmd === 'watch') {
        await this.serveWatch(request.value);
        return;
      } else {
        this.send(await this.answer(request.value));
      }
    } finally {
      this.busy = false;
    }
    if (this.shuttingDown) this.socket.end();
  }

  /** The response to every request but `watch`; failures become `ok: false` lines. */
  private async answer(request: Exclude<ParsedControlRequest, { cmd: 'watch' }>): Promise<ControlResponse> {
    const t = this.target;
    try {
      if (isMemberRequest(request)) return withId(request, await answerMemberRequest(t, request));
      switch (request.cmd) {
        case 'set': {
          if (request.encoding === 'base64' && !BASE64.test(request.value)) {
            return withId(request, {
              ok: false,
              error: { code: 'BAD_REQUEST', message: 'value: not base64' },
            });
          }
          const input: Input = {
            op: 'set',
            key: request.key,
            value: decodeValue(request.value, request.encoding),
          };
          const { index } = await t.proposeInput(input, {
            timeoutMs: request.timeoutMs ?? DEFAULT_PROPOSE_TIMEOUT_MS,
          });
          return withId(request, { ok: true, index });
        }
        case 'del':
        case 'delete': {
          const input: Input = { op: 'delete', key: request.key };
          const { index } = await t.proposeInput(input, {
            timeoutMs: request.timeoutMs ?? DEFAULT_PROPOSE_TIMEOUT_MS,
          });
          return withId(request, { ok: true, index });
        }
        case 'get': {
          const value = await t.get(request.key, { consistency: request.consistency ?? 'local' });
          return withId(
            request,
            value === undefined
              ? { ok: true, found: false }
              : { ok: true, found: true, ...encodeValue(value) },
          );
        }
        case 'state': {
          const { index, state, settings } = await t.getIndexedState({
            consistency: request.consistency ?? 'local',
          });
          const wire = (map: Map<string, Uint8Array>) =>
            [...map.entries()]
              .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
              .map(([key, value]) => ({ key, ...encodeValue(value) }));
          const entries = wire(state);
          return withId(
            request,
            settings.size === 0
              ? { ok: true, index, entries }
              : { ok: true, index, entries, settings: wire(settings) },
          );
        }
        case 'status': {
          const s = t.status();
          const status = {
            id: s.id,
            role: s.role,
            leader: s.leader,
            term: s.term,
            commitIndex: s.commitIndex,
            appliedIndex: s.appliedIndex,
            members: s.members.map((m) => ({ id: m.id, suffrage: m.suffrage })),
            ...(s.stopCause === undefined ? {} : { stopCause: s.stopCause }),
          };
          return withId(request, { ok: true, status });
        }
      }
    } catch (err) {
      return withId(request, { ok: false, error: errorBody(err) });
    }
  }

  /** Streams changes until the client disconnects, the member stops or the observer fails. */
  private async serveWatch(request: Extract<ParsedControlRequest, { cmd: 'watch' }>): Promise<void> {
    const controller = new AbortController();
    this.watch = controller;
    const { signal } = controller;
    try {
      await streamWatch(this.target, request, signal, {
        send: (response) => this.sendAndDrain(response),
        open: () => !this.closed && !signal.aborted,
      });
      // The iterable ended on its own: the member is closing.
      if (!this.closed && !signal.aborted) {
        this.send({ ok: false, error: { code: 'SHUTDOWN', message: 'the member stopped' } });
      }
    } catch (err) {
      // Such as OBSERVER_OVERFLOW when this client reads too slowly (it is told and may watch
      // again), or a fromIndex whose changes are gone.
      if (!this.closed && !signal.aborted) this.send(withId(request, { ok: false, error: errorBody(err) }));
    }
    this.socket.end();
  }

  private send(response: ControlResponse): boolean {
    if (this.closed || this.socket.destroyed) return false;
    return this.socket.write(`${JSON.stringify(response)}\n`);
  }

  /** Sends, then waits while the socket's buffer is full, so a slow reader backs up into the observer's bounded queue. */
  private async sendAndDrain(response: ControlResponse): Promise<void> {
    if (this.send(response)) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }
}

/** Parses one request line: the request, or the `BAD_REQUEST` error to answer it with. */
export function parseRequest(line: string): { value: ParsedControlRequest } | { error: ControlErrorBody } {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return { error: { code: 'BAD_REQUEST', message: 'the request is not a JSON line' } };
  }
  const result = ControlRequestSchema.safeParse(json);
  if (result.success) return { value: result.data };
  const issue = result.error.issues[0];
  const where = issue === undefined || issue.path.length === 0 ? 'request' : issue.path.join('.');
  return { error: { code: 'BAD_REQUEST', message: `${where}: ${issue?.message ?? 'invalid'}` } };
}

function withId(request: { id?: string | number | undefined }, response: ControlResponse): ControlResponse {
  return request.id === undefined ? response : { id: request.id, ...response };
}

function errorBody(err: unknown): ControlErrorBody {
  if (isRaftError(err)) {
    const body: ControlErrorBody = { code: err.code, message: err.message };
    if (err.retryable) body.retryable = true;
    if (err.indefinite) body.indefinite = true;
    return body;
  }
  return { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
}
