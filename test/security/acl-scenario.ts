import { connect, type MqttClient } from 'mqtt';
import { expect } from 'vitest';
import { type BindingOptions, RaftBinding } from '../../src/index.js';
import { FAST_BINDING, set, textState } from '../support/binding-group.js';
import { waitFor } from '../support/wait.js';

/**
 * The scenario of "a non-member cannot read or publish the group's topics", run on any broker that
 * confines the group with an ACL: a group of three whose usernames are their member ids, and an
 * outsider with valid broker credentials of its own.
 */

export const CLUSTER = 'demo';
export const MEMBERS = ['n1', 'n2', 'n3'] as const;
export const OUTSIDER = 'outsider';
/** Every account's password, per username (members and the outsider). */
export function passwordOf(username: string): string {
  return `pw-${username}-secret`;
}

/** A payload no member would ever send: the outsider's forgeries are recognised by it. */
export const FORGED = 'forged-by-outsider';

export interface OutsiderView {
  /** Topics of messages the outsider received. */
  received: string[];
  client: MqttClient;
}

/** Opens the group on `url`: the first member bootstraps, the others join. */
export async function openGroup(url: string, extra: Partial<BindingOptions> = {}): Promise<RaftBinding[]> {
  const members: RaftBinding[] = [];
  for (const [i, id] of MEMBERS.entries()) {
    const binding = new RaftBinding({
      id,
      broker: url,
      cluster: CLUSTER,
      username: id,
      password: passwordOf(id),
      bootstrap: i === 0,
      ...FAST_BINDING,
      ...extra,
    });
    await binding.open();
    members.push(binding);
  }
  return members;
}

/** Proposes from every member (followers forward) and waits until all hold the same state. */
export async function writeAndConverge(members: RaftBinding[], round: string): Promise<void> {
  const expected: Array<[string, string]> = [];
  for (const member of members) {
    await member.proposeInput(set(`${round}-${member.id}`, 'v'));
    expected.push([`${round}-${member.id}`, 'v']);
  }
  await waitFor(
    async () => {
      for (const member of members) {
        const state = textState(await member.getState());
        if (!expected.every(([k, v]) => state.some(([sk, sv]) => sk === k && sv === v))) return false;
      }
      return true;
    },
    10_000,
    `every member to hold the ${round} writes`,
  );
}

/**
 * Connects the outsider and subscribes to everything of the group it might want to read (each
 * filter separately, as a refusal may end the SUBACK or be silent). Resolves once connected.
 */
export async function outsiderListening(url: string): Promise<OutsiderView> {
  const client = connect(url, {
    protocolVersion: 4,
    username: OUTSIDER,
    password: passwordOf(OUTSIDER),
    reconnectPeriod: 0,
    clientId: `outsider-${process.pid}`,
  });
  client.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('close', () => reject(new Error('the outsider could not connect')));
  });
  const received: string[] = [];
  client.on('message', (topic) => received.push(topic));
  const filters = [
    '#',
    `mqtt-raft/${CLUSTER}/#`,
    `mqtt-raft/${CLUSTER}/broadcast`,
    `mqtt-raft/${CLUSTER}/multicast`,
    ...MEMBERS.flatMap((id) => [
      `mqtt-raft/${CLUSTER}/node/${id}/in`,
      `mqtt-raft/${CLUSTER}/node/${id}/reply`,
    ]),
  ];
  for (const filter of filters) await client.subscribeAsync(filter, { qos: 1 }).catch(() => undefined);
  return { received, client };
}

/**
 * Publishes {@link FORGED} at QoS 1 to every member's inboxes, the broadcast and multicast topics, and waits
 * until each publish settled: acknowledged (mosquitto acknowledges a denied publish and drops it)
 * or failed (aedes closes the connection of a client whose publish it refuses).
 */
export async function forge(outsider: MqttClient): Promise<void> {
  const topics = [
    `mqtt-raft/${CLUSTER}/broadcast`,
    `mqtt-raft/${CLUSTER}/multicast`,
    ...MEMBERS.flatMap((id) => [
      `mqtt-raft/${CLUSTER}/node/${id}/in`,
      `mqtt-raft/${CLUSTER}/node/${id}/reply`,
    ]),
  ];
  const closed = new Promise<void>((resolve) =>
    outsider.connected ? outsider.once('close', () => resolve()) : resolve(),
  );
  // mqtt.js keeps an unacknowledged QoS 1 publish pending when the connection closes: hence the race.
  await Promise.race([
    Promise.allSettled(topics.map((topic) => outsider.publishAsync(topic, FORGED, { qos: 1 }))),
    closed,
  ]);
}

/** Closes the members without leaving (the broker goes away next). */
export async function closeGroup(members: RaftBinding[]): Promise<void> {
  for (const member of members) await member.close({ leave: false }).catch(() => undefined);
}

/** The outsider saw nothing of the group although the group was busy. */
export function expectNothingSeen(view: OutsiderView): void {
  expect(view.received).toEqual([]);
}
