import { afterEach, describe, expect, it } from 'vitest';
import { type RunningBroker, startBroker } from '../../broker/index.js';
import type { RaftBinding } from '../../src/index.js';
import {
  CLUSTER,
  closeGroup,
  expectNothingSeen,
  FORGED,
  forge,
  MEMBERS,
  OUTSIDER,
  type OutsiderView,
  openGroup,
  outsiderListening,
  passwordOf,
  writeAndConverge,
} from './acl-scenario.js';

let broker: RunningBroker | null = null;
let members: RaftBinding[] = [];
let outsider: OutsiderView | null = null;

afterEach(async () => {
  await outsider?.client.endAsync(true);
  await closeGroup(members);
  await broker?.close();
  broker = null;
  members = [];
  outsider = null;
});

describe("the embedded broker's ACL template", () => {
  it('keeps a non-member with valid credentials from reading or publishing the group topics, while the group works', async () => {
    const users = Object.fromEntries([...MEMBERS, OUTSIDER].map((u) => [u, passwordOf(u)]));
    // What the broker accepted for publication, seen from inside it: the refused never get here.
    const published: Array<{ topic: string; payload: string }> = [];
    broker = await startBroker({
      port: 0,
      users,
      acl: [{ cluster: CLUSTER, members: [...MEMBERS] }],
      instrument: (aedes) =>
        aedes.on('publish', (packet) => {
          if (packet.topic.startsWith(`mqtt-raft/${CLUSTER}/`))
            published.push({ topic: packet.topic, payload: Buffer.from(packet.payload).toString('latin1') });
        }),
    });
    members = await openGroup(broker.url);
    outsider = await outsiderListening(broker.url);
    await writeAndConverge(members, 'before');

    forge(outsider.client);
    // aedes ends a client whose publish it refuses.
    await new Promise<void>((resolve) =>
      outsider?.client.connected ? outsider.client.once('close', () => resolve()) : resolve(),
    );
    await writeAndConverge(members, 'after');

    expectNothingSeen(outsider);
    expect(published.length).toBeGreaterThan(0);
    expect(published.filter((p) => p.payload === FORGED)).toEqual([]);
  });
});
