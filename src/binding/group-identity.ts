import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { RandomBytes } from '../core/random.js';
import { RaftError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { RaftStorage } from '../storage/types.js';
import type { ProbeResult } from '../transport/mqtt-discovery.js';

/** StableStore key of the group id: random, chosen at bootstrap, adopted by every member that joins. */
const GROUP_KEY = 'mqtt-raft/group';
const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** The group id in `storage`, or '' when it holds none (a fresh member, or one from before group ids). */
export async function readGroup(storage: RaftStorage): Promise<string> {
  const raw = await storage.get(GROUP_KEY);
  return raw === undefined ? '' : decoder.decode(raw);
}

/** Chooses a new random group id and stores it: a new group begins (at bootstrap, or from a backup). */
export async function createGroup(storage: RaftStorage, bytes: RandomBytes = randomBytes): Promise<string> {
  const group = Buffer.from(bytes(8)).toString('hex');
  await storage.set(GROUP_KEY, encoder.encode(group));
  return group;
}

/** What a member must know to settle its group before its Raft node starts. */
export interface IdentityContext {
  readonly id: string;
  readonly broker: string;
  readonly cluster: string;
  readonly storage: RaftStorage;
  /** The store holds Raft state: a restart. */
  readonly existing: boolean;
  readonly bootstrap: boolean;
  /** Open's deadline, on `clock`. */
  readonly deadline: number;
  readonly clock: Clock;
  /** Asks the broker who is live under the cluster name, announcing `group`. */
  readonly probe: (group: string) => Promise<ProbeResult>;
  readonly logger: Logger;
  /** Draws a new group's id; defaults to the system's cryptographic generator. */
  readonly randomBytes?: RandomBytes;
}

/**
 * Decides which group this member runs in, refusing what would split or confuse the group
 * (design §7, "Which group"):
 * - another live process with this id: `CONFLICT` naming the id (both would receive the id's traffic);
 * - bootstrap on a fresh store where the cluster name already has live members: `CONFLICT`, no
 *   second group; otherwise a new random group id;
 * - a fresh member adopts the group of the live members, waiting for one to answer until the
 *   deadline; live members of two groups: `CONFLICT`, it joins neither;
 * - a restart keeps its stored group, and says so loudly if it sees another one.
 * The group id is persisted before the node starts.
 */
export async function settleGroup(ctx: IdentityContext): Promise<string> {
  const group = await readGroup(ctx.storage);
  let found = refuseTwin(ctx, await ctx.probe(group));
  if (!ctx.existing && ctx.bootstrap) {
    if (found.live.length > 0) {
      throw new RaftError(
        'CONFLICT',
        `cannot bootstrap: cluster ${ctx.cluster} on ${ctx.broker} already has a live group ` +
          `(${describeLive(found)}); start ${ctx.id} without bootstrap to join it`,
      );
    }
    return createGroup(ctx.storage, ctx.randomBytes);
  }
  if (ctx.existing || group !== '') {
    reportForeign(ctx, group, found);
    return group;
  }
  for (;;) {
    const groups = new Set(found.live.map((m) => m.group));
    if (groups.size > 1) {
      throw new RaftError(
        'CONFLICT',
        `cluster ${ctx.cluster} on ${ctx.broker} has live members of ${groups.size} different groups ` +
          `(${describeLive(found)}): ${ctx.id} joins none of them; stop all but one group`,
      );
    }
    const [only] = groups;
    if (only !== undefined) {
      if (only !== '') await ctx.storage.set(GROUP_KEY, encoder.encode(only));
      return only;
    }
    if (ctx.clock.now() >= ctx.deadline) {
      throw new RaftError(
        'TIMEOUT',
        `open: no live member of cluster ${ctx.cluster} answered on ${ctx.broker}; ` +
          'start the member that bootstraps the group first',
        { retryable: true },
      );
    }
    found = refuseTwin(ctx, await ctx.probe(group));
  }
}

function refuseTwin(ctx: IdentityContext, found: ProbeResult): ProbeResult {
  if (!found.duplicate) return found;
  throw new RaftError(
    'CONFLICT',
    `member id ${ctx.id} is already in use by another live process in cluster ${ctx.cluster} on ` +
      `${ctx.broker}; stop that process or give this member another id`,
  );
}

function reportForeign(ctx: IdentityContext, group: string, found: ProbeResult): void {
  const foreign = found.live.filter((m) => m.group !== '' && group !== '' && m.group !== group);
  if (foreign.length === 0) return;
  ctx.logger.error(
    { localId: ctx.id, group },
    `cluster ${ctx.cluster} has a second group besides ${group}: ${describeLive({ ...found, live: foreign })}`,
  );
}

function describeLive(found: ProbeResult): string {
  return [...found.live]
    .sort((a, b) => (a.id < b.id ? -1 : 1))
    .map((m) => `${m.id} in group ${m.group === '' ? '(none)' : m.group}`)
    .join(', ');
}
