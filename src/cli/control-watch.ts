/**
 * The `watch` stream of the control protocol (docs/cli.md): an acknowledgement, the replay, one
 * `live` line, then live changes, until the client leaves or the member stops.
 */
import type { RaftBinding } from '../binding/index.js';
import type { ControlResponse } from './control-protocol.js';
import { encodeValue } from './control-protocol.js';
import type { ParsedControlRequest } from './control-schemas.js';

/** What a watch needs of a member. */
export type WatchTarget = Pick<
  RaftBinding,
  'observeIndexedStateChange' | 'observeMembershipChange' | 'status'
>;

/** Where a watch writes: `send` resolves once the line is written (or the client has gone). */
export interface WatchOutput {
  send(response: ControlResponse): Promise<void>;
  /** False once the client has gone or the watch was stopped. */
  open(): boolean;
}

/**
 * Streams until the observer ends (the member closes: resolves) or fails (rejects, such as with
 * `OBSERVER_OVERFLOW`). A refused start (a `fromIndex` whose changes are gone) rejects before the
 * acknowledgement.
 */
export async function streamWatch(
  target: WatchTarget,
  request: Extract<ParsedControlRequest, { cmd: 'watch' }>,
  signal: AbortSignal,
  out: WatchOutput,
): Promise<void> {
  const ack = (index?: number): ControlResponse => ({
    ...(request.id === undefined ? {} : { id: request.id }),
    ok: true,
    watching: request.target,
    ...(index === undefined ? {} : { index }),
  });
  if (request.target === 'state') {
    const observation = target.observeIndexedStateChange({ signal, fromIndex: request.fromIndex });
    await out.send(ack(observation.index));
    await forEachWithMarker(observation.changes, observation.replayed, out, async ({ index, input }) => {
      const change =
        input.op === 'set'
          ? { index, op: 'set' as const, key: input.key, ...encodeValue(input.value) }
          : { index, op: 'delete' as const, key: input.key };
      await out.send({ ok: true, change });
    });
  } else {
    // Taken in the same instant as the observer's replay, so the counts agree.
    const replayed = new Set(target.status().members.map((m) => m.id)).size;
    const members = target.observeMembershipChange({ signal });
    await out.send(ack());
    await forEachWithMarker(members[Symbol.asyncIterator](), replayed, out, async (member) => {
      await out.send({ ok: true, member: { id: member.id, joined: member.joined } });
    });
  }
}

/** Sends each item, with the `live` line after the first `replayed` ones. */
async function forEachWithMarker<T>(
  items: AsyncIterator<T>,
  replayed: number,
  out: WatchOutput,
  send: (item: T) => Promise<void>,
): Promise<void> {
  let left = replayed;
  if (left === 0) await out.send({ ok: true, live: true });
  for (let next = await items.next(); next.done !== true; next = await items.next()) {
    if (!out.open()) break;
    await send(next.value);
    left -= 1;
    if (left === 0) await out.send({ ok: true, live: true });
  }
  if (!out.open()) await items.return?.();
}
