/**
 * Three Raft cores in one process, wired by an in-memory mailbox: elect a leader, replicate a few
 * commands, and print what every server applied. Run with `npx tsx examples/core-cluster.ts`.
 *
 * This is what the node runtime does for real, minus disks and networks: tick, step messages in,
 * and handle each Ready in order (persist, send, apply, advance).
 */
import { type Entry, type Message, RaftCore, seededRandom } from '../src/index.js';

export function runCoreCluster(commands: readonly string[]): Map<string, string[]> {
  const ids = ['a', 'b', 'c'];
  const config = { servers: ids.map((id) => ({ id, suffrage: 'voter' as const })) };
  const cores = new Map(
    ids.map((id, i) => [
      id,
      new RaftCore(
        { id, random: seededRandom(i + 1) },
        {
          hardState: { term: 0, vote: null, commit: 0 },
          snapshot: { index: 0, term: 0, config, configIndex: 0 },
          entries: [],
        },
      ),
    ]),
  );
  const applied = new Map(ids.map((id) => [id, [] as string[]]));
  let mailbox: Message[] = [];
  const decoder = new TextDecoder();

  const processReadies = () => {
    for (const [id, core] of cores) {
      while (core.hasReady()) {
        const ready = core.ready();
        // A leader's appends may go out while it writes; the rest only after the write.
        mailbox.push(...ready.earlyMessages);
        // A real runtime persists ready.hardState and ready.entries here, with one synced write.
        mailbox.push(...ready.messages);
        const commands = ready.committedEntries.filter((e: Entry) => e.type === 'command');
        applied.get(id)?.push(...commands.map((e) => decoder.decode(e.data)));
        core.advance(ready);
      }
    }
  };
  const deliver = () => {
    const batch = mailbox;
    mailbox = [];
    for (const m of batch) cores.get(m.to)?.step(m);
  };
  const leader = () => [...cores.values()].find((c) => c.role === 'leader');

  for (let tick = 0; tick < 100 && leader() === undefined; tick++) {
    for (const core of cores.values()) core.tick();
    processReadies();
    deliver();
    processReadies();
  }
  const elected = leader();
  if (elected === undefined) throw new Error('no leader elected');
  for (const command of commands) elected.propose(new TextEncoder().encode(command));
  for (let round = 0; round < 20; round++) {
    processReadies();
    deliver();
    if (round % 4 === 0) for (const core of cores.values()) core.tick();
  }
  return applied;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const [id, commands] of runCoreCluster(['set x=1', 'set y=2', 'del x'])) {
    console.log(`${id} applied: ${commands.join(', ')}`);
  }
}
