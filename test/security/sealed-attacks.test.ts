import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RaftBinding } from '../../src/binding/raft-binding.js';
import { encodeEnvelope } from '../../src/transport/mqtt-codec.js';
import { EnvelopeSeal } from '../../src/transport/mqtt-seal.js';
import { BindingGroup, set } from '../support/binding-group.js';
import { Attacker, dropCounted, drops, expectUnharmed, forgedApply, viewOf } from './attacker.js';

/**
 * Issue 13's attacks, replayed from a client of the broker that does not hold the group key,
 * against a three-member group that does. Each must leave the state and the configuration as they
 * were, stop no member, let the group go on committing, and be counted in the transport's stats.
 */
describe('a sealed group attacked from the broker', () => {
  const groupKey = randomBytes(32).toString('hex');
  let group: BindingGroup;
  let attacker: Attacker;

  beforeAll(async () => {
    // A permissive shared broker: it keeps retained messages, so (e) tests the members' own refusal.
    group = await BindingGroup.create('aedes', { groupKey }, { allowRetain: true });
    await group.open('a', { bootstrap: true });
    await group.open('b');
    await group.open('c');
    await (await group.leader()).proposeInput(set('k', 'v0'));
    await group.converge({ k: 'v0' });
    attacker = await Attacker.connect(group.broker.url, group.cluster);
  }, 60_000);

  afterAll(async () => {
    await attacker?.close();
    await group?.shutdown();
  });

  async function roles(): Promise<{ leader: RaftBinding; followers: RaftBinding[] }> {
    const leader = await group.leader();
    return { leader, followers: [...group.members.values()].filter((m) => m !== leader) };
  }

  it('(a) a forged forwarded apply from a non-member enters no state', async () => {
    const before = await viewOf(group);
    const { leader } = await roles();
    const counted = drops(leader, 'unsealed');
    const b = forgedApply('mallory', 'k', 'forged');
    await attacker.publish(
      attacker.inbox(leader.id),
      attacker.envelope({ k: 'forwardRequest', id: 'x1', f: 'mallory', t: leader.id, b }),
    );
    await attacker.publish(
      attacker.broadcast,
      attacker.envelope({ k: 'forwardRequest', id: 'x2', f: 'mallory', t: null, b }),
    );
    await expectUnharmed(group, before, 'after-a');
    await dropCounted(leader, 'unsealed', counted + 1);
  });

  it("(b) a forged removeServer or addVoter in a member's name changes no configuration", async () => {
    const before = await viewOf(group);
    const { leader, followers } = await roles();
    const victim = followers[0] as RaftBinding;
    const counted = drops(leader, 'unsealed');
    const ids = { incarnation: 'forged', seq: 1 };
    for (const [n, b] of [
      { kind: 'removeServer', origin: victim.id, id: victim.id, ...ids },
      { kind: 'addVoter', origin: victim.id, id: 'mallory', ...ids, seq: 2 },
    ].entries()) {
      const envelope = attacker.envelope({ k: 'forwardRequest', id: `m${n}`, f: victim.id, t: leader.id, b });
      await attacker.publish(attacker.inbox(leader.id), envelope);
    }
    await expectUnharmed(group, before, 'after-b');
    await dropCounted(leader, 'unsealed', counted + 1);
  });

  it('(c) AppendEntries and heartbeats spoofing the leader or a follower change nothing and stop no member', async () => {
    const before = await viewOf(group);
    const { leader, followers } = await roles();
    const { term, commitIndex } = leader.status();
    const counted = [leader, ...followers].map((m) => drops(m, 'unsealed'));
    const garbage = new Uint8Array([0xc1, 0xff, 0x00]);
    for (const f of followers) {
      for (const type of ['config', 'command'] as const) {
        const entries = [{ index: commitIndex + 1, term, type, data: garbage }];
        const b = { term, prevIndex: commitIndex, prevTerm: term, entries, commit: commitIndex + 1 };
        await attacker.publish(
          attacker.inbox(f.id),
          attacker.envelope({ k: 'appendRequest', f: leader.id, t: f.id, b }),
        );
      }
    }
    const follower = followers[0] as RaftBinding;
    const heartbeat = { term, commit: commitIndex, context: 0 };
    await attacker.publish(
      attacker.inbox(leader.id),
      attacker.envelope({ k: 'heartbeatRequest', f: follower.id, t: leader.id, b: heartbeat }),
    );
    await expectUnharmed(group, before, 'after-c');
    for (const [i, m] of [leader, ...followers].entries()) await dropCounted(m, 'unsealed', counted[i] ?? 0);
  });

  it('(d) a captured sealed message replayed later is dropped and counted', async () => {
    const { leader, followers } = await roles();
    const follower = followers[0] as RaftBinding;
    const stop = await attacker.record(attacker.inbox(leader.id));
    // Writes through a follower reach the leader's inbox as sealed forwards, among Raft responses.
    for (let i = 0; i < 3; i++) await follower.proposeInput(set('k', `v${i + 1}`));
    const captured = await stop();
    expect(captured.length).toBeGreaterThan(0);
    const applied = (await viewOf(group)).state[leader.id] ?? [];
    await group.converge(Object.fromEntries(applied));
    const before = await viewOf(group);
    const counted = drops(leader, 'replayed');
    for (const payload of captured) await attacker.publish(attacker.inbox(leader.id), payload);
    await expectUnharmed(group, before, 'after-d');
    // Every captured payload, not just most: each one is a replay.
    await dropCounted(leader, 'replayed', counted + captured.length - 1);
  });

  it('(e) a retained forged message is ignored after a member restarts', async () => {
    const { followers } = await roles();
    const victim = followers[0] as RaftBinding;
    const b = forgedApply('mallory', 'k', 'retained');
    const inbox = attacker.inbox(victim.id);
    await attacker.publish(
      inbox,
      attacker.envelope({ k: 'forwardRequest', id: 'r1', f: 'mallory', t: victim.id, b }),
      true,
    );
    try {
      await victim.close({ leave: false });
      group.members.delete(victim.id);
      const restarted = await group.open(victim.id);
      await dropCounted(restarted, 'retained', 0);
      const before = await viewOf(group);
      await expectUnharmed(group, before, 'after-e');
    } finally {
      await attacker.publish(inbox, new Uint8Array(0), true);
    }
  });

  it('(f) a message sealed with another key is dropped and counted', async () => {
    const before = await viewOf(group);
    const { leader } = await roles();
    const counted = drops(leader, 'badSeal');
    const seal = new EnvelopeSeal([randomBytes(32)]);
    const topic = attacker.inbox(leader.id);
    const envelope = { k: 'forwardRequest' as const, id: 'w1', f: 'mallory', t: leader.id, c: group.cluster };
    const payload = encodeEnvelope({ ...envelope, b: forgedApply('mallory', 'k', 'wrong-key') }, '', {
      seal,
      topic,
    });
    await attacker.publish(topic, payload);
    await expectUnharmed(group, before, 'after-f');
    await dropCounted(leader, 'badSeal', counted);
  });
});
