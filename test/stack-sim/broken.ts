import { RaftCore } from '../../src/core/raft.js';
import type { CallOptions } from '../../src/node/deadline.js';
import { ForwardServer } from '../../src/node/forwarding.js';
import { Proposer } from '../../src/node/proposer.js';
import type { ForwardRequest, ForwardResponse } from '../../src/transport/types.js';

/**
 * Bugs planted on purpose, to prove the stack simulation can fail. Each is patched into the
 * prototypes for one run and taken out again; production code stays as it is.
 * - `dedupeByMember`: the leader's forward dedupe keys requests by member id and seq alone, so a
 *   restarted process, which counts its seqs from 1 again, is answered with what its predecessor
 *   was told (design §7 "Who is speaking": keyed by incarnation, never by id alone).
 * - `pinnedForward`: a forward waits for the leader it was sent to, as long as a leader waits for a
 *   forwarded call: it neither follows a new leader nor is sent again after two election timeouts,
 *   so a call sent to a leader that died or whose answer was lost hangs.
 * - `ackBeforeWrite`: every member defers the write of every Ready as only a non-voter's silent
 *   Ready may be deferred, so it answers for entries and votes before they are on its disk, and a
 *   crash takes them back.
 */
export type PlantedBug = 'dedupeByMember' | 'pinnedForward' | 'ackBeforeWrite';

export const PLANTED_BUGS: readonly PlantedBug[] = ['dedupeByMember', 'pinnedForward', 'ackBeforeWrite'];

type WhileLeaderIs = <T>(
  leader: string,
  what: string,
  options: CallOptions,
  task: (options: CallOptions) => Promise<T>,
) => Promise<T>;

/** Plants `bug`; the returned function takes it out again. */
export function plant(bug: PlantedBug): () => void {
  switch (bug) {
    case 'dedupeByMember': {
      const original = ForwardServer.prototype.handle;
      ForwardServer.prototype.handle = function (request: ForwardRequest): Promise<ForwardResponse> {
        return original.call(this, { ...request, incarnation: '' });
      };
      return () => {
        ForwardServer.prototype.handle = original;
      };
    }
    case 'pinnedForward': {
      const proto = Proposer.prototype as unknown as { whileLeaderIs: WhileLeaderIs };
      const original = proto.whileLeaderIs;
      proto.whileLeaderIs = function (this: { ctx: { forwardedTimeoutMs: number } }, _l, _w, options, task) {
        return task({ ...options, timeoutMs: this.ctx.forwardedTimeoutMs });
      } as WhileLeaderIs;
      return () => {
        proto.whileLeaderIs = original;
      };
    }
    case 'ackBeforeWrite': {
      const original = RaftCore.prototype.mayDeferWrite;
      RaftCore.prototype.mayDeferWrite = () => true;
      return () => {
        RaftCore.prototype.mayDeferWrite = original;
      };
    }
  }
}
