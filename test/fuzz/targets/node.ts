/**
 * Fuzz target of what a member does with the messages that pass the transport's decoder: the
 * node's own bounds (src/node/peer-input.ts) and the core's peer rules (src/core/peer-rules.ts),
 * for short sequences of hostile messages stepped into one follower.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Message } from '../../../src/core/index.js';
import { messageProblem } from '../../../src/core/peer-rules.js';
import { PeerInput } from '../../../src/node/peer-input.js';
import { decodeInbound, encodeEnvelope } from '../../../src/transport/mqtt-codec.js';
import { isMessageKind } from '../../../src/transport/mqtt-schemas.js';
import { drain, newCore } from '../../core/helpers.js';
import type { FuzzTarget } from '../support/target.js';
import { CLUSTER, GROUP, RECEIVER, wireCase } from '../support/wire-values.js';
import { type Delivery, deliveries } from './transport.js';

const ctx = { cluster: CLUSTER, group: GROUP, localId: RECEIVER, maxBytes: 8 * 1024 * 1024 };

const messageDeliveries = deliveries(
  (c) => encodeEnvelope(c.envelope, GROUP),
  wireCase.filter((c) => isMessageKind(c.envelope.k)),
);

function totalDrops(drops: Readonly<Partial<Record<string, number>>>): number {
  return Object.values(drops).reduce((sum: number, n) => sum + (n ?? 0), 0);
}

/**
 * Each decoded message goes through `PeerInput.admit`, then into the core: nothing throws, a
 * message that breaks a peer rule is counted as dropped, the term never goes back, and the commit
 * index never passes the end of the log.
 */
export const peerInputTarget: FuzzTarget<Delivery[]> = {
  name: 'node: peer messages into a member',
  inputs: fc.array(messageDeliveries, { minLength: 1, maxLength: 6 }),
  size: (list) => list.reduce((sum, d) => sum + d.payload.length, 0),
  check(list) {
    const core = newCore(RECEIVER, ['a', 'b', 'c']);
    drain(core);
    const peerInput = new PeerInput({
      storage: undefined as never,
      run: () => Promise.reject(new Error('not used by admit')),
      step: () => undefined,
    });
    let stepped = 0;
    for (const d of list) {
      const verdict = decodeInbound(d.payload, d.role, ctx);
      if (!verdict.ok || verdict.inbound.kind !== 'message') continue;
      const m: Message = verdict.inbound.message;
      if (!peerInput.admit(m)) continue;
      const before = core.status();
      core.step(m);
      if (core.hasReady()) drain(core);
      const after = core.status();
      stepped++;
      // The core ignores its own id as a sender before it judges the message.
      if (m.from !== RECEIVER && messageProblem(m) !== null) {
        assert.equal(totalDrops(after.droppedMessages), totalDrops(before.droppedMessages) + 1);
      }
      assert.ok(after.term >= before.term, 'the term went back');
      assert.ok(after.commitIndex <= after.lastIndex, 'commit index past the log');
    }
    return stepped > 0 ? 'accepted' : 'rejected';
  },
};
