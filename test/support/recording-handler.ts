import type { Message, SnapshotRequest } from '../../src/core/types.js';
import type { ForwardRequest, ForwardResponse, TransportHandler } from '../../src/transport/types.js';

/** A snapshot as a handler received it. */
export interface ReceivedSnapshot {
  readonly request: SnapshotRequest;
  readonly data: Uint8Array;
}

/** What a {@link RecordingHandler} does with an incoming snapshot. */
export type SnapshotBehavior = (request: SnapshotRequest, chunks: AsyncIterable<Uint8Array>) => Promise<void>;

/**
 * A transport handler that records what it receives. By default it reads every snapshot to the
 * end and records it; tests swap {@link onSnapshotBehavior} to make it slow or failing.
 */
export class RecordingHandler implements TransportHandler {
  readonly messages: Message[] = [];
  readonly snapshots: ReceivedSnapshot[] = [];
  onSnapshotBehavior: SnapshotBehavior = async (request, chunks) => {
    await this.record(request, chunks);
  };
  readonly forwards: Array<{ request: ForwardRequest; from: string }> = [];
  /** How this handler answers forwarded requests; by default like a follower that knows no leader. */
  onForwardBehavior: (request: ForwardRequest, from: string) => Promise<ForwardResponse> = async () => ({
    ok: false,
    error: {
      code: 'NOT_LEADER',
      message: 'not the leader',
      retryable: true,
      indefinite: false,
      leader: null,
    },
  });

  onMessage(message: Message): void {
    this.messages.push(message);
  }

  onSnapshot(request: SnapshotRequest, chunks: AsyncIterable<Uint8Array>): Promise<void> {
    return this.onSnapshotBehavior(request, chunks);
  }

  onForward(request: ForwardRequest, from: string): Promise<ForwardResponse> {
    this.forwards.push({ request, from });
    return this.onForwardBehavior(request, from);
  }

  /** Reads `chunks` to the end and records the snapshot. */
  async record(request: SnapshotRequest, chunks: AsyncIterable<Uint8Array>): Promise<ReceivedSnapshot> {
    const parts: Uint8Array[] = [];
    for await (const chunk of chunks) parts.push(chunk);
    const received = { request, data: concat(parts) };
    this.snapshots.push(received);
    return received;
  }
}

/** The bytes of `parts`, joined. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Yields `parts` one by one, asynchronously, as a snapshot store would. */
export async function* streamOf(...parts: Uint8Array[]): AsyncGenerator<Uint8Array, void, undefined> {
  for (const p of parts) {
    await Promise.resolve();
    yield p;
  }
}
