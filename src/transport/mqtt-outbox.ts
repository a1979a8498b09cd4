import type { NodeId } from '../core/types.js';
import { type BatchItem, MAX_BATCH_ITEMS } from './mqtt-codec.js';

/** An envelope waiting in the {@link Outbox}, with whom to tell how its publish went. */
export interface QueuedEnvelope extends BatchItem {
  /** Called once the publish that carried it succeeded or failed. */
  readonly settle: (error: unknown) => void;
}

/** Bytes left for a batch's header, seal and per-item framing below the message size limit. */
const FRAMING_BYTES = 1024;

/**
 * Holds the QoS 0 envelopes for each topic until the event loop's current turn ends, then hands
 * them to `publish` in groups: one envelope alone, or up to {@link MAX_BATCH_ITEMS} whose bodies
 * fit `maxBytes` as one `batch` (docs/protocol.md §3, "Batches").
 *
 * Why: a follower under load forwards many proposals in one turn and the leader answers many in
 * one turn (they commit together). Sent one by one, each costs a broker publish, a socket write,
 * and with a group key a seal and an open (several µs of cipher set-up each); batched, a turn's
 * worth to one member costs one of each. The wait is one turn of the event loop
 * (`setImmediate`), nothing is delayed by a timer.
 */
export class Outbox {
  private readonly queues = new Map<string, { to: NodeId | null; items: QueuedEnvelope[] }>();
  private scheduled: NodeJS.Immediate | null = null;
  private queuedBytes = 0;

  constructor(
    private readonly publish: (topic: string, to: NodeId | null, group: readonly QueuedEnvelope[]) => void,
    private readonly maxBytes: number,
  ) {}

  /** Bytes of the bodies waiting now: they count against the send buffer's limit like written ones. */
  get bytes(): number {
    return this.queuedBytes;
  }

  /** Queues `item` for `topic`: the inbox or reply topic of `to`, or the multicast topic (`to` null). */
  add(topic: string, to: NodeId | null, item: QueuedEnvelope): void {
    const queue = this.queues.get(topic);
    if (queue === undefined) this.queues.set(topic, { to, items: [item] });
    else queue.items.push(item);
    this.queuedBytes += item.body.byteLength;
    this.scheduled ??= setImmediate(() => this.flush());
  }

  /** Publishes everything queued, in order per topic. */
  flush(): void {
    if (this.scheduled !== null) clearImmediate(this.scheduled);
    this.scheduled = null;
    const queues = [...this.queues];
    this.queues.clear();
    this.queuedBytes = 0;
    for (const [topic, { to, items }] of queues) {
      for (const group of this.groups(items)) this.publish(topic, to, group);
    }
  }

  /** Drops everything queued, settling each with `error`. */
  discard(error: unknown): void {
    if (this.scheduled !== null) clearImmediate(this.scheduled);
    this.scheduled = null;
    const queues = [...this.queues.values()];
    this.queues.clear();
    this.queuedBytes = 0;
    for (const { items } of queues) for (const item of items) item.settle(error);
  }

  /** Splits `items`, in order, into groups within the count and byte limits of a batch. */
  private *groups(items: readonly QueuedEnvelope[]): Generator<QueuedEnvelope[]> {
    const budget = this.maxBytes - FRAMING_BYTES;
    let group: QueuedEnvelope[] = [];
    let bytes = 0;
    for (const item of items) {
      // UTF-8 takes at most 3 bytes per UTF-16 unit; 16 covers an item's array, string and bin headers.
      const size = item.body.byteLength + 3 * (item.id.length + item.k.length) + 16;
      if (group.length > 0 && (group.length === MAX_BATCH_ITEMS || bytes + size > budget)) {
        yield group;
        group = [];
        bytes = 0;
      }
      group.push(item);
      bytes += size;
    }
    if (group.length > 0) yield group;
  }
}
