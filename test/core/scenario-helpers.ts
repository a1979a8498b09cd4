/**
 * Helpers for the cluster scenario tests (snapshots, membership, transfer, reads): joining servers
 * that start with an empty configuration, watching the Readies a node produces (TestNode does not
 * keep read states or installed snapshots), holding messages back, and small assertions.
 */
import { expect } from 'vitest';
import {
  type CoreOptions,
  type Message,
  type NodeId,
  type ProposeResult,
  RaftCore,
  type ReadState,
  type Ready,
  type Suffrage,
  seededRandom,
} from '../../src/core/index.js';
import { type TestCluster, TestNode } from '../support/cluster.js';

/**
 * Adds a server that has never been bootstrapped (empty configuration) to `cluster`: it learns
 * the configuration only from the log the leader sends it.
 */
export function joinNode(
  cluster: TestCluster,
  id: NodeId,
  options: Partial<CoreOptions> = {},
  seed = 7777,
): TestNode {
  const node = new TestNode(
    id,
    { servers: [] },
    (storage) => new RaftCore({ ...options, id, random: seededRandom(seed) }, storage.initialState()),
  );
  cluster.nodes.set(id, node);
  return node;
}

/**
 * Records every Ready the node's current core hands out (a restart replaces the core, and with it
 * the watch).
 */
export function watchReadies(node: TestNode): Ready[] {
  const seen: Ready[] = [];
  const core = node.core;
  const ready = core.ready.bind(core);
  core.ready = () => {
    const r = ready();
    seen.push(r);
    return r;
  };
  return seen;
}

/** Every read state in `readies`, in order. */
export function readStatesOf(readies: readonly Ready[]): ReadState[] {
  return readies.flatMap((r) => r.readStates);
}

/** The suffrage of `id` in the configuration `core` currently uses, or undefined. */
export function suffrageIn(core: RaftCore, id: NodeId): Suffrage | undefined {
  return core.configuration.servers.find((s) => s.id === id)?.suffrage;
}

/** The configuration of `core` as sorted "id:suffrage" strings, for comparisons. */
export function membersOf(core: RaftCore): string[] {
  return core.configuration.servers.map((s) => `${s.id}:${s.suffrage}`).sort();
}

/** Asserts the proposal was accepted and returns its index. */
export function acceptedIndex(result: ProposeResult): number {
  expect(result).toMatchObject({ accepted: true });
  if (!result.accepted) throw new Error(`proposal refused: ${result.code} ${result.message}`);
  return result.index;
}

/** Messages that `pick` selects are held back (dropped, but kept) until released. */
export interface Hold {
  readonly held: Message[];
  /** Stops holding and delivers everything held so far, in order. */
  release(): void;
  /** Stops holding and forgets what was held. */
  drop(): void;
}

export function hold(cluster: TestCluster, pick: (m: Message) => boolean): Hold {
  const held: Message[] = [];
  const remove = cluster.filter((m) => {
    if (!pick(m)) return true;
    held.push(m);
    return false;
  });
  return {
    held,
    release() {
      remove();
      const out = held.splice(0);
      for (const m of out) cluster.send(m);
    },
    drop() {
      remove();
      held.length = 0;
    },
  };
}

/** Ticks only the given nodes (the others' clocks stand still), stabilizing after each tick. */
export function tickOnly(cluster: TestCluster, ids: readonly NodeId[], n = 1): void {
  for (let i = 0; i < n; i++) {
    for (const id of ids) cluster.core(id).tick();
    cluster.stabilize();
  }
}

/** Lets `node` take a snapshot at `index` and record it in its storage, as a runtime would. */
export function takeSnapshot(node: TestNode, index: number): ReturnType<RaftCore['snapshotTaken']> {
  const taken = node.core.snapshotTaken(index);
  node.storage.saveSnapshot(taken.snapshot, taken.compactedTo);
  return taken;
}

export const text = (s: string): Uint8Array => new TextEncoder().encode(s);
