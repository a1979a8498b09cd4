import { connectAsync, type MqttClient } from 'mqtt';
import { expect } from 'vitest';
import { encodeProposal } from '../../src/binding/proposal.js';
import type { RaftBinding } from '../../src/binding/raft-binding.js';
import { msgpackEncode } from '../../src/msgpack.js';
import { type BindingGroup, set, textState } from '../support/binding-group.js';
import { waitFor } from '../support/wait.js';

/**
 * A client of the broker that is no member: it knows the topic layout and the envelope format
 * (docs/protocol.md) but not the group key. The attacks of issue 13 are published from here.
 */
export class Attacker {
  private constructor(
    private readonly client: MqttClient,
    private readonly cluster: string,
  ) {}

  static async connect(url: string, cluster: string): Promise<Attacker> {
    const client = await connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0 });
    return new Attacker(client, cluster);
  }

  inbox(id: string): string {
    return `mqtt-raft/${this.cluster}/node/${id}/in`;
  }

  get broadcast(): string {
    return `mqtt-raft/${this.cluster}/broadcast`;
  }

  /** An unsealed version-1 envelope of this cluster, as members without a key accept it. */
  envelope(fields: {
    k: string;
    f: string;
    t: string | null;
    id?: string;
    b: unknown;
  }): Record<string, unknown> {
    return { v: 2, id: '', c: this.cluster, ...fields };
  }

  async publish(topic: string, payload: Uint8Array | Record<string, unknown>, retain = false): Promise<void> {
    const bytes = payload instanceof Uint8Array ? payload : msgpackEncode(payload);
    await this.client.publishAsync(topic, Buffer.from(bytes), { qos: 1, retain });
  }

  /** Records every payload published on `topic` until the returned function is called. */
  async record(topic: string): Promise<() => Promise<Uint8Array[]>> {
    const captured: Uint8Array[] = [];
    const onMessage = (t: string, payload: Buffer) => {
      if (t === topic) captured.push(new Uint8Array(payload));
    };
    this.client.on('message', onMessage);
    await this.client.subscribeAsync(topic, { qos: 1 });
    return async () => {
      await this.client.unsubscribeAsync(topic);
      this.client.off('message', onMessage);
      return captured;
    };
  }

  close(): Promise<void> {
    return this.client.endAsync(true);
  }
}

/** A forwarded `apply` that would write `key` = `value`, as the binding encodes it. */
export function forgedApply(origin: string, key: string, value: string, seq = 1): Record<string, unknown> {
  const data = encodeProposal({ member: origin, seq, input: set(key, value) });
  return { kind: 'apply', origin, incarnation: 'forged', seq, data };
}

/** What an attack must leave alone: every member's state and committed configuration. */
export interface GroupView {
  readonly state: Record<string, Array<[string, string]>>;
  readonly config: Record<string, string[]>;
}

export async function viewOf(group: BindingGroup): Promise<GroupView> {
  const state: GroupView['state'] = {};
  const config: GroupView['config'] = {};
  for (const [id, m] of group.members) {
    state[id] = textState(await m.getState({ consistency: 'local' }));
    config[id] = m
      .status()
      .members.map((s) => `${s.id}:${s.suffrage}`)
      .sort();
  }
  return { state, config };
}

/** Drops counted by `member`'s transport under `reason`. */
export function drops(member: RaftBinding, reason: string): number {
  return member.transportStats().droppedReasons[reason] ?? 0;
}

/** Waits until `member` has counted more than `before` drops of `reason`. */
export async function dropCounted(member: RaftBinding, reason: string, before: number): Promise<void> {
  await waitFor(() => drops(member, reason) > before, 5000, `${member.id} to count a ${reason} drop`);
}

/**
 * After an attack: no member stopped or left, the group commits a write through every member,
 * and every member then holds exactly the state before the attack plus those writes, with the
 * configuration it had.
 */
export async function expectUnharmed(group: BindingGroup, before: GroupView, marker: string): Promise<void> {
  for (const m of group.members.values()) expect(['leader', 'follower']).toContain(m.status().role);
  const expected = Object.fromEntries(before.state[group.members.keys().next().value as string] ?? []);
  for (const [id, m] of group.members) {
    await m.proposeInput(set(`${marker}-${id}`, id), { timeoutMs: 10_000 });
    expected[`${marker}-${id}`] = id;
  }
  await group.converge(expected);
  const after = await viewOf(group);
  expect(after.config).toEqual(before.config);
  for (const id of group.members.keys()) {
    expect(after.state[id]).toEqual(Object.entries(expected).sort());
  }
}
