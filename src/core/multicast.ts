import type { AppendRequest, HeartbeatRequest, Message, NodeId } from './types.js';

/** The messages a leader may send once to several followers: identical apart from `to`. */
export type MulticastMessage = AppendRequest | HeartbeatRequest;

/**
 * One message for several followers, to go out as one publish that every member receives (the
 * MQTT transport's group topic, docs/protocol.md §3). `message.to` is the first recipient; each
 * recipient reads it as addressed to itself, every other member ignores it.
 */
export interface Multicast {
  readonly kind: 'multicast';
  readonly recipients: readonly NodeId[];
  readonly message: MulticastMessage;
}

/** A message to one server, or one to several. */
export type Outgoing = Message | Multicast;

/** True when `out` goes to several servers. */
export function isMulticast(out: Outgoing): out is Multicast {
  return (out as Multicast).kind === 'multicast';
}

/**
 * What makes two messages the same but for their addressee. Within one leader's output, entries
 * of the same index and term are the same entry (Raft §5.3, Log Matching), so the range of the
 * entries and the last one's term identify them without comparing their bytes.
 */
function sameness(m: Message): string | null {
  if (m.type === 'heartbeatRequest') return `h ${m.from} ${m.term} ${m.commit} ${m.context}`;
  if (m.type !== 'appendRequest') return null;
  const last = m.entries.at(-1);
  const range = last === undefined ? '-' : `${m.entries.length} ${last.index} ${last.term}`;
  return `a ${m.from} ${m.term} ${m.prevIndex} ${m.prevTerm} ${m.commit} ${range}`;
}

/** Messages that {@link planSends} may send as one, and where the first of them was. */
class Group {
  constructor(
    readonly at: number,
    readonly members: MulticastMessage[],
  ) {}

  get first(): MulticastMessage {
    return this.members[0] as MulticastMessage;
  }
}

/**
 * Groups a Ready's messages for sending: appends and heartbeats that are identical but for their
 * addressee, sent to at least `minRecipients` followers, become one {@link Multicast} in the place
 * of the first of them; everything else stays as it is, in order. Followers that are caught up get
 * identical appends (the same entries after the same previous entry); a follower that is behind or
 * rejected one is sent its own, and so is served point-to-point until it is in step again.
 *
 * Each follower receives its messages in the order the core made them: a message joins a group
 * only when nothing else for the same follower was placed after the group's place. Raft tolerates
 * reordering, but an append overtaking the one before it is refused as a gap and sends its
 * follower back to probing.
 */
export function planSends(messages: readonly Message[], minRecipients: number): Outgoing[] {
  if (messages.length < minRecipients) return [...messages];
  const latest = new Map<string, Group>();
  const placedAt = new Map<NodeId, number>();
  const slots: Array<Message | Group> = [];
  for (const m of messages) {
    const key = sameness(m);
    const group = key === null ? undefined : latest.get(key);
    if (group !== undefined && (placedAt.get(m.to) ?? -1) < group.at) {
      group.members.push(m as MulticastMessage);
      placedAt.set(m.to, group.at);
      continue;
    }
    placedAt.set(m.to, slots.length);
    if (key === null) {
      slots.push(m);
      continue;
    }
    const fresh = new Group(slots.length, [m as MulticastMessage]);
    latest.set(key, fresh);
    slots.push(fresh);
  }
  const out: Outgoing[] = [];
  for (const slot of slots) {
    if (!(slot instanceof Group)) out.push(slot);
    else if (slot.members.length < minRecipients) out.push(...slot.members);
    else out.push({ kind: 'multicast', recipients: slot.members.map((m) => m.to), message: slot.first });
  }
  return out;
}

/**
 * The message a multicast carries for `id`, or null when `id` is not among its recipients (every
 * member receives every multicast; the others, the sender included, ignore it).
 */
export function multicastFor(id: NodeId, multicast: Multicast): MulticastMessage | null {
  if (!multicast.recipients.includes(id)) return null;
  return multicast.message.to === id ? multicast.message : { ...multicast.message, to: id };
}
