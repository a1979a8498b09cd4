import type { NodeId } from '../core/types.js';
import { RaftError } from '../errors.js';
import type { MqttLink, RpcStats } from './mqtt-link.js';
import { describe, toWire } from './mqtt-link.js';
import { isValidName } from './mqtt-topics.js';
import type { ForwardOptions, ForwardRequest, ForwardResponse, TransportHandler } from './types.js';

interface PendingCall {
  /** The addressee, or null for a broadcast. */
  readonly to: NodeId | null;
  resolve(response: ForwardResponse): void;
  /** Rejects and cleans up; `error` decides the code. */
  fail(error: RaftError): void;
}

/**
 * The sending side of leader forwarding: one `forwardRequest` envelope (QoS 0) to the target's inbox
 * or to the broadcast topic, answered by a `forwardResponse` with the same id on this node's reply
 * inbox. Every call is bounded by its `timeoutMs` and `signal`, and fails at once when the
 * connection drops or the transport closes.
 */
export class ForwardCalls {
  private readonly pending = new Map<string, PendingCall>();

  constructor(
    private readonly link: MqttLink,
    private readonly stats: RpcStats,
  ) {}

  /** Calls in flight. */
  get size(): number {
    return this.pending.size;
  }

  /** Sends `request` and waits for its answer; see `Transport.forward` for the errors. */
  call(to: NodeId | null, request: ForwardRequest, options: ForwardOptions): Promise<ForwardResponse> {
    const { link } = this;
    const what = `forward ${request.kind} from ${link.localId} to ${to ?? 'everyone'}`;
    if (options.signal?.aborted === true) {
      return Promise.reject(new RaftError('TIMEOUT', `${what}: aborted`, { cause: options.signal.reason }));
    }
    if (to !== null && !isValidName(to)) {
      return Promise.reject(new RaftError('UNREACHABLE', `${what}: not a valid member id`));
    }
    if (!link.ready()) {
      return Promise.reject(new RaftError('UNREACHABLE', `${what}: not connected`, { retryable: true }));
    }
    const id = link.nextId();
    const topic = to === null ? link.topics.broadcast : link.topics.inboxOf(to);
    return new Promise<ForwardResponse>((resolve, reject) => {
      const timeoutMs = options.timeoutMs;
      const timer = setTimeout(
        () =>
          call.fail(
            new RaftError('TIMEOUT', `${what}: no answer within ${timeoutMs} ms`, {
              indefinite: true,
              retryable: true,
            }),
          ),
        timeoutMs,
      );
      const onAbort = () =>
        call.fail(
          new RaftError('TIMEOUT', `${what}: aborted`, {
            indefinite: true,
            retryable: true,
            cause: options.signal?.reason,
          }),
        );
      const cleanup = () => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        this.pending.delete(id);
      };
      const call: PendingCall = {
        to,
        resolve(response) {
          cleanup();
          resolve(response);
        },
        fail(error) {
          cleanup();
          reject(error);
        },
      };
      this.pending.set(id, call);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.stats.forwardsSent++;
      link
        .publish(topic, { k: 'forwardRequest', id, f: link.localId, t: to, c: link.cluster, b: request }, 0)
        .catch((err: unknown) =>
          this.pending.get(id)?.fail(
            new RaftError('UNREACHABLE', `${what}: publish failed: ${describe(err)}`, {
              retryable: true,
              indefinite: true,
              cause: err,
            }),
          ),
        );
    });
  }

  /**
   * Settles the call `id` with `response` from `from`. Returns false when no call expects it (a
   * late answer, or one from a node the call was not addressed to). A broadcast only takes an `ok`
   * answer or a `NOT_LEADER` that names a leader; other answers to a broadcast are ignored.
   */
  answer(id: string, from: NodeId, response: ForwardResponse): boolean {
    const call = this.pending.get(id);
    if (call === undefined) return false;
    if (call.to !== null) {
      if (from !== call.to) return false;
      call.resolve(response);
      return true;
    }
    if (usefulToBroadcast(response)) call.resolve(response);
    return true;
  }

  /** Fails every call in flight with the error `make` returns. */
  failAll(make: () => RaftError): void {
    for (const call of [...this.pending.values()]) call.fail(make());
  }
}

/** An answer that settles a broadcast: success, or a pointer to the leader. */
export function usefulToBroadcast(response: ForwardResponse): boolean {
  return response.ok || (response.error.code === 'NOT_LEADER' && response.error.leader !== null);
}

/**
 * The receiving side: hands a forwarded request to the node and publishes its answer (QoS 0) to
 * the sender's reply inbox. A broadcast that this node cannot help with goes unanswered, as the
 * sender would ignore the answer. A handler that throws is answered with an indefinite
 * `UNREACHABLE`: the operation may have started.
 */
export async function serveForward(
  link: MqttLink,
  stats: RpcStats,
  handler: TransportHandler,
  envelope: { id: string; from: NodeId; broadcast: boolean; request: ForwardRequest },
): Promise<void> {
  let response: ForwardResponse;
  try {
    response = await handler.onForward(envelope.request, envelope.from);
  } catch (err) {
    stats.handlerErrors++;
    link.logger.error({ error: describe(err) }, 'onForward threw');
    response = {
      ok: false,
      error: toWire(err, { code: 'UNREACHABLE', retryable: true, indefinite: true }),
    };
  }
  if (envelope.broadcast && !usefulToBroadcast(response)) return;
  stats.forwardsServed++;
  const reply = (b: ForwardResponse) =>
    link.publish(
      link.topics.replyOf(envelope.from),
      { k: 'forwardResponse', id: envelope.id, f: link.localId, t: envelope.from, c: link.cluster, b },
      0,
    );
  try {
    await reply(response);
  } catch (err) {
    // Most likely an FSM response msgpack cannot encode: say so rather than leave the caller waiting.
    link.logger.warn({ error: describe(err) }, 'forward answer could not be sent');
    if (!response.ok) return;
    const error = {
      code: 'UNREACHABLE' as const,
      message: `the answer could not be sent: ${describe(err)}`,
      retryable: false,
      indefinite: true,
      leader: null,
    };
    await reply({ ok: false, error }).catch(() => undefined);
  }
}
