/**
 * Three members of a key-value group in one process, over an embedded MQTT broker: each proposes
 * changes, each observes every change in the same order, and all end with the same state.
 * Run with `npx tsx examples/kv-group.ts`.
 *
 * In a real deployment each member is its own process or machine (see `mqtt-raft node`), with a
 * LevelDB directory as `store`; here the stores are in memory.
 */
import { pathToFileURL } from 'node:url';
import { startBroker } from '../broker/index.js';
import { type Input, RaftBinding } from '../src/index.js';

const text = new TextEncoder();
const decoder = new TextDecoder();

/** Polls until `condition` holds; throws after `ms`. Waiting on conditions, never blind sleeps. */
async function until(condition: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function describe(input: Input): string {
  return input.op === 'set' ? `set ${input.key} = ${decoder.decode(input.value)}` : `delete ${input.key}`;
}

/**
 * Runs the example and returns every member's final state (key → UTF-8 value). `log` receives the
 * lines the example prints (default: console.log).
 */
export async function run(
  log: (line: string) => void = console.log,
): Promise<Map<string, Record<string, string>>> {
  const broker = await startBroker({ host: '127.0.0.1', port: 0 });
  const ids = ['a', 'b', 'c'];
  // Faster timing than the defaults (1000 ms): the members share one machine.
  const members = ids.map(
    (id, i) =>
      new RaftBinding({
        id,
        broker: broker.url,
        cluster: 'kv-example',
        bootstrap: i === 0, // exactly one member creates the group; the others join it
        heartbeatTimeout: 200,
        electionTimeout: 400,
      }),
  );
  const observed = new Map(ids.map((id) => [id, [] as string[]]));
  const stopObserving = new AbortController();
  try {
    for (const member of members) {
      await member.open();
      log(`${member.id}: joined the group`);
    }

    // Each member observes: first a replay of the current state, then every change in log order.
    for (const member of members) {
      void (async () => {
        for await (const input of member.observeStateChange({ signal: stopObserving.signal })) {
          observed.get(member.id)?.push(describe(input));
          log(`  [${member.id}] observed ${describe(input)}`);
        }
      })();
    }

    const [a, b, c] = members as [RaftBinding, RaftBinding, RaftBinding];
    const proposals: Array<[RaftBinding, Input]> = [
      [a, { op: 'set', key: 'greeting', value: text.encode('hello') }],
      [b, { op: 'set', key: 'counter', value: text.encode('1') }],
      [c, { op: 'set', key: 'counter', value: text.encode('2') }],
      [a, { op: 'delete', key: 'greeting' }],
      [b, { op: 'set', key: 'owner', value: text.encode('b') }],
    ];
    for (const [member, input] of proposals) {
      // Any member may propose: followers forward to the leader. It resolves once applied on the leader.
      const { index } = await member.proposeInput(input, { timeoutMs: 5000 });
      log(`${member.id}: proposed ${describe(input)} (index ${index})`);
    }

    const last = describe(proposals[proposals.length - 1]?.[1] as Input);
    await until(
      () => ids.every((id) => observed.get(id)?.includes(last) === true),
      'every member to observe the last change',
    );

    const states = new Map<string, Record<string, string>>();
    for (const member of members) {
      const state = await member.getState({ consistency: 'linearizable' });
      const plain = Object.fromEntries([...state].map(([key, value]) => [key, decoder.decode(value)]));
      states.set(member.id, plain);
      log(`${member.id}: state ${JSON.stringify(plain)}`);
    }
    return states;
  } finally {
    stopObserving.abort();
    // Leaving one by one: each close() hands over leadership if needed and leaves the group.
    for (const member of [...members].reverse()) await member.close();
    await broker.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  run().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
