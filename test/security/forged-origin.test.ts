import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRaftError } from '../../src/errors.js';
import { NOT_A_MEMBER } from '../../src/transport/mqtt-discovery.js';
import { MqttTransport } from '../../src/transport/mqtt-transport.js';
import { BindingGroup, set } from '../support/binding-group.js';
import { rejectionOf } from '../support/promises.js';
import { dropCounted, drops, expectUnharmed, forgedApply, viewOf } from './attacker.js';

/** What a holder of the group key may not do either: speak for another member, or change others' membership. */
describe('authorization inside the protocol, with the key', () => {
  const groupKey = randomBytes(32).toString('hex');
  let group: BindingGroup;
  let insider: MqttTransport;

  beforeAll(async () => {
    group = await BindingGroup.create('aedes', { groupKey });
    await group.open('a', { bootstrap: true });
    await group.open('b');
    await group.open('c');
    await (await group.leader()).proposeInput(set('k', 'v0'));
    insider = new MqttTransport({ localId: 'x', url: group.broker.url, cluster: group.cluster, groupKey });
    await insider.start(NOT_A_MEMBER);
  }, 60_000);

  afterAll(async () => {
    await insider?.close();
    await group?.shutdown();
  });

  it('drops a forward whose origin is not its sender', async () => {
    const before = await viewOf(group);
    const leader = await group.leader();
    const counted = drops(leader, 'forgedOrigin');
    const request = forgedApply('b', 'k', 'spoken-for-b') as never;
    const err = await rejectionOf(insider.forward(leader.id, request, { timeoutMs: 500 }));
    expect(isRaftError(err) && err.code).toBe('TIMEOUT');
    await dropCounted(leader, 'forgedOrigin', counted);
    await expectUnharmed(group, before, 'after-origin');
  });

  it("refuses a non-member's change of another server's membership", async () => {
    const before = await viewOf(group);
    const leader = await group.leader();
    const victim = [...group.members.keys()].find((id) => id !== leader.id) as string;
    for (const kind of ['removeServer', 'demoteVoter'] as const) {
      const answer = await insider.forward(
        leader.id,
        { kind, origin: 'x', incarnation: 'i', seq: 1, id: victim },
        { timeoutMs: 5000 },
      );
      expect(answer).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT', indefinite: false } });
    }
    await expectUnharmed(group, before, 'after-change');
  });
});
