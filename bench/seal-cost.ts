/**
 * `npx tsx bench/seal-cost.ts [iterations]`: the CPU cost of the MQTT envelope per message, plain
 * and sealed, for the messages a busy group sends most. For each sample message it times, in one
 * process and back to back: encoding (`encodeEnvelope`), decoding and validating (`decodeInbound`),
 * and the seal's own share (`EnvelopeSeal.seal` and `.open` on the encoded body). Prints µs per
 * message (the best of 10 rounds); docs/benchmarks.md ("Sealed envelope") quotes it.
 */
import { randomBytes } from 'node:crypto';
import type { Message } from '../src/core/types.js';
import { msgpackEncode } from '../src/msgpack.js';
import {
  decodeInbound,
  encodeEnvelope,
  messageEnvelope,
  type OutboundEnvelope,
} from '../src/transport/mqtt-codec.js';
import { PROTOCOL_VERSION } from '../src/transport/mqtt-schemas.js';
import { EnvelopeSeal, type SealFields, type SealHeader } from '../src/transport/mqtt-seal.js';
import type { TopicRole } from '../src/transport/mqtt-topics.js';

const iterations = Number(process.argv[2] ?? 5000);
const ROUNDS = 10;
const TOPIC = 'mqtt-raft/bench/node/b/in';
const KEY = randomBytes(32);

function entries(count: number, valueBytes: number) {
  return Array.from({ length: count }, (_, i) => ({
    index: 100 + i,
    term: 2,
    type: 'command' as const,
    data: new Uint8Array(valueBytes + 40).fill(i & 0xff),
  }));
}

function message(m: Message): OutboundEnvelope {
  return messageEnvelope('bench', m);
}

const SAMPLES: Array<[string, OutboundEnvelope, TopicRole]> = [
  [
    'heartbeatRequest',
    message({ type: 'heartbeatRequest', from: 'a', to: 'b', term: 2, commit: 99, context: 7 }),
    'inbox',
  ],
  [
    'appendResponse',
    message({
      type: 'appendResponse',
      from: 'a',
      to: 'b',
      term: 2,
      success: true,
      index: 120,
      hintIndex: 0,
      hintTerm: 0,
    }),
    'inbox',
  ],
  ...[1, 8, 64].map((count): [string, OutboundEnvelope, TopicRole] => [
    `appendRequest ×${count} (256 B values)`,
    message({
      type: 'appendRequest',
      from: 'a',
      to: 'b',
      term: 2,
      prevIndex: 99,
      prevTerm: 2,
      commit: 99,
      entries: entries(count, 256),
    }),
    'inbox',
  ]),
  [
    'forwardRequest apply (256 B)',
    {
      k: 'forwardRequest',
      id: 'abcdef012345-1a',
      f: 'a',
      t: 'b',
      c: 'bench',
      b: { kind: 'apply', origin: 'a', incarnation: 'inc', seq: 1, data: new Uint8Array(300) },
    },
    'inbox',
  ],
];

/**
 * CPU µs per call of `step(i)` (user and system time of the process, so that time spent descheduled on
 * a busy machine does not count; garbage collection on helper threads does), `n` calls per round (i
 * counts on across rounds), the best of {@link ROUNDS} rounds. */
function time(n: number, step: (i: number) => void): number {
  const perRound: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.cpuUsage();
    for (let i = 0; i < n; i++) step(r * n + i);
    const used = process.cpuUsage(start);
    perRound.push((used.user + used.system) / n);
  }
  // The fastest round: on a shared machine, other processes only ever add time.
  return Math.min(...perRound);
}

function ctx(seal?: EnvelopeSeal) {
  return { cluster: 'bench', group: 'g1', localId: 'b', maxBytes: 8 << 20, seal };
}

const rows: string[][] = [
  ['message', 'bytes plain/sealed', 'encode', 'encode sealed', 'decode', 'decode sealed', 'seal', 'open'],
];
for (const [name, envelope, role] of SAMPLES) {
  const plain = encodeEnvelope(envelope, 'g1');
  // Fewer iterations for large messages: every sealed payload is prepared up front.
  const n = Math.max(200, Math.min(iterations, Math.floor(2e7 / ROUNDS / plain.byteLength)));
  const fresh = <T>(make: () => T): T[] => Array.from({ length: n * ROUNDS }, make);
  const { b, ...rest } = envelope;
  const header: SealHeader = { v: PROTOCOL_VERSION, ...rest, g: 'g1', topic: TOPIC };
  const body = msgpackEncode(b);
  const sender = new EnvelopeSeal([KEY]);
  const cells = [
    name,
    `${plain.byteLength}/${encodeEnvelope(envelope, 'g1', { seal: sender, topic: TOPIC }).byteLength}`,
    time(n, () => encodeEnvelope(envelope, 'g1')),
    time(n, () => encodeEnvelope(envelope, 'g1', { seal: sender, topic: TOPIC })),
    time(n, () => decodeInbound(plain, role, ctx(), TOPIC)),
  ];
  // Fresh payloads for every decode and open (the replay window refuses a counter twice), made
  // before each timing and dropped after it.
  let payloads = fresh(() => encodeEnvelope(envelope, 'g1', { seal: sender, topic: TOPIC }));
  const receiver = ctx(new EnvelopeSeal([KEY]));
  cells.push(
    time(n, (i) => {
      const r = decodeInbound(payloads[i] as Uint8Array, role, receiver, TOPIC);
      if (!r.ok) throw new Error(`${name}: ${r.reason} ${r.detail}`);
    }),
  );
  payloads = [];
  cells.push(time(n, () => sender.seal(header, body)));
  let sealed = fresh(() => sender.seal(header, body));
  const opener = new EnvelopeSeal([KEY]);
  cells.push(
    time(n, (i) => {
      if (!opener.open(header, sealed[i] as SealFields).ok) throw new Error(`${name}: open failed`);
    }),
  );
  sealed = [];
  rows.push(cells.map((c) => (typeof c === 'number' ? c.toFixed(2) : c)));
}

const widths = (rows[0] ?? []).map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
for (const r of rows)
  console.log(
    r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('  '),
  );
console.log(`µs per message, best of ${ROUNDS} rounds of up to ${iterations}; node ${process.version}`);
