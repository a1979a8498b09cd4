import type { MulticastMessage } from '../core/multicast.js';
import type { NodeId } from '../core/types.js';
import type { OutboundEnvelope } from './mqtt-codec.js';
import { nameProblem } from './mqtt-topics.js';

// The wire form of a multicast: one append or heartbeat published once on the group topic for
// several followers (docs/protocol.md, "Multicasts").

/**
 * Multicasts this member is not to read: its own (every subscriber gets its publishes back) and
 * those for other followers. They are skipped, not dropped: nothing is wrong with them.
 */
export type MulticastSkip = 'ownMulticast' | 'notRecipient';

/** Recipients at most in one multicast; a group has at most a few hundred members. */
export const MAX_MULTICAST_RECIPIENTS = 1024;

/**
 * The envelope of a multicast (docs/protocol.md §3, "Multicasts"): addressed to no one (`t` null),
 * its recipients in the body as `r`, inside the seal.
 */
export function multicastEnvelope(
  cluster: string,
  recipients: readonly NodeId[],
  message: MulticastMessage,
): OutboundEnvelope {
  const { type, from, to: _to, ...body } = message;
  return { k: type, id: '', f: from, t: null, c: cluster, b: { ...body, r: recipients } };
}

/** Whether a multicast's body names `localId` among its recipients, or why it cannot be read. */
export function recipientCheck(
  b: unknown,
  localId: NodeId,
): { reason: 'invalidBody' | 'notRecipient'; detail: string } | null {
  const r = typeof b === 'object' && b !== null ? (b as { r?: unknown }).r : undefined;
  if (!Array.isArray(r) || r.length === 0 || r.length > MAX_MULTICAST_RECIPIENTS) {
    return { reason: 'invalidBody', detail: `r: not a list of 1 to ${MAX_MULTICAST_RECIPIENTS} recipients` };
  }
  let named = false;
  for (const id of r) {
    if (typeof id !== 'string' || nameProblem(id) !== null)
      return { reason: 'invalidBody', detail: 'r: not a member id' };
    if (id === localId) named = true;
  }
  return named ? null : { reason: 'notRecipient', detail: 'a multicast for other members' };
}
