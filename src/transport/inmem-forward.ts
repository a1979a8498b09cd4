import type { Clock } from '../clock.js';
import type { NodeId } from '../core/types.js';
import { RaftError } from '../errors.js';
import type { ForwardOptions, ForwardRequest, ForwardResponse, TransportHandler } from './types.js';

/** What a forwarded request needs to know about one receiving node. */
export interface ForwardTarget {
  readonly id: NodeId;
  readonly handler: TransportHandler;
}

/**
 * Delivers a forwarded request the way a network would: a copy, asynchronously, bounded by the
 * caller's timeout and signal. Broadcasts go to every reachable node; the first `ok` answer, or
 * else the first answer that names a leader, wins. Nodes that ignore a broadcast answer nothing.
 */
export async function deliverForward(
  from: NodeId,
  targets: readonly ForwardTarget[],
  request: ForwardRequest,
  options: ForwardOptions & { readonly clock: Clock },
  broadcast: boolean,
): Promise<ForwardResponse> {
  if (options.signal?.aborted) {
    // Not sent at all: a definite failure.
    throw new RaftError('TIMEOUT', `forward from ${from}: aborted before sending`, {
      cause: options.signal.reason,
    });
  }
  if (targets.length === 0) {
    throw new RaftError('UNREACHABLE', `forward from ${from}: no reachable server`, { retryable: true });
  }
  const answers = targets.map(async (t) => {
    await Promise.resolve();
    return structuredClone(await t.handler.onForward(structuredClone(request), from));
  });
  const outcome = broadcast ? firstUseful(answers) : (answers[0] as Promise<ForwardResponse>);
  return await raceDeadline(outcome, options, from);
}

/** Resolves with the first ok answer, else the first NOT_LEADER answer naming a leader, else never. */
function firstUseful(answers: Array<Promise<ForwardResponse>>): Promise<ForwardResponse> {
  return new Promise((resolve) => {
    let pending = answers.length;
    let hint: ForwardResponse | null = null;
    for (const answer of answers) {
      answer.then(
        (r) => {
          if (r.ok) resolve(r);
          else if (r.error.leader !== null && hint === null) hint = r;
          if (--pending === 0 && hint !== null) resolve(hint);
        },
        () => {
          if (--pending === 0 && hint !== null) resolve(hint);
        },
      );
    }
  });
}

function raceDeadline(
  answer: Promise<ForwardResponse>,
  options: ForwardOptions & { readonly clock: Clock },
  from: NodeId,
): Promise<ForwardResponse> {
  return new Promise((resolve, reject) => {
    const fail = (reason: string, cause?: unknown) => {
      cleanup();
      reject(
        new RaftError('TIMEOUT', `forward from ${from}: ${reason}`, {
          indefinite: true,
          retryable: true,
          cause,
        }),
      );
    };
    const timer = options.clock.setTimeout(
      () => fail(`no answer within ${options.timeoutMs} ms`),
      options.timeoutMs,
    );
    const onAbort = () => fail('aborted', options.signal?.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const cleanup = () => {
      options.clock.clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    };
    answer.then(
      (r) => {
        cleanup();
        resolve(r);
      },
      (err: unknown) => {
        cleanup();
        reject(
          new RaftError('UNREACHABLE', `forward from ${from}: the receiver failed`, {
            retryable: true,
            indefinite: true,
            cause: err,
          }),
        );
      },
    );
  });
}
