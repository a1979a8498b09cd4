/**
 * Child process: several observers of the group in one process, as a gateway hosting many devices
 * would run them. Arguments: `<brokerUrl> <dataRoot> <id,id,…>`. Opens one `RaftBinding` per id
 * with `role: 'observer'`, one after the other, then sends `{type:'ready', openMs: [...]}`.
 *
 * Every observer watches the state; for keys that start with `fleet-` the host keeps how many of
 * its observers saw the key change and when the last of them did. `{type:'seen', prefix}` answers
 * `{seen: [[key, count, lastMs], …]}` for keys with that prefix (epoch ms, `nowMs`).
 */
import { join } from 'node:path';
import { RaftBinding } from '../src/binding/raft-binding.js';
import { exitWithParent, nowMs } from './util.js';

exitWithParent();
const [broker = '', root = '', list = ''] = process.argv.slice(2);
const ids = list.split(',').filter((id) => id !== '');
const seen = new Map<string, { count: number; lastMs: number }>();
const bindings: RaftBinding[] = [];
const watching = new AbortController();

async function watch(binding: RaftBinding): Promise<void> {
  for await (const input of binding.observeStateChange({ signal: watching.signal })) {
    if (input.op !== 'set' || !input.key.startsWith('fleet-')) continue;
    const at = nowMs();
    const entry = seen.get(input.key);
    if (entry === undefined) seen.set(input.key, { count: 1, lastMs: at });
    else {
      entry.count++;
      entry.lastMs = at;
    }
  }
}

process.on('message', (message: unknown) => {
  const m = message as { type?: string; rid?: number; prefix?: string };
  if (m.type !== 'seen') return;
  const prefix = m.prefix ?? 'fleet-';
  const rows = [...seen]
    .filter(([key]) => key.startsWith(prefix))
    .map(([key, s]) => [key, s.count, s.lastMs]);
  process.send?.({ rid: m.rid, seen: rows });
});

const openMs: number[] = [];
try {
  for (const id of ids) {
    const binding = new RaftBinding({ id, broker, store: join(root, id), role: 'observer' });
    const started = nowMs();
    await binding.open();
    openMs.push(nowMs() - started);
    bindings.push(binding);
    void watch(binding).catch(() => undefined);
  }
  process.send?.({ type: 'ready', openMs });
} catch (err) {
  process.send?.({ type: 'failed', error: err instanceof Error ? err.message : String(err) });
  process.exit(1);
}
process.on('SIGTERM', () => {
  watching.abort();
  void Promise.all(bindings.map((b) => b.close({ leave: false }))).finally(() => process.exit(0));
});
