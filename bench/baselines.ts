/**
 * Baselines measured in the same run: raw MQTT request/response through the embedded broker (in its
 * own process), and LevelDB synced writes (classic-level) in a temp dir.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { connect, type MqttClient } from 'mqtt';
import { startBrokerProcess } from './broker.js';
import { forkBench, kill, nowMs, quantile, type Result, round } from './util.js';

export interface BaselineOptions {
  quick: boolean;
}

function client(url: string): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = connect(url, { protocolVersion: 4, clean: true, reconnectPeriod: 0 });
    c.on('connect', () => {
      (c.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
      resolve(c);
    });
    c.once('error', reject);
  });
}

/** Starts the echo responder in its own process; resolves once it is subscribed. */
async function startEchoProcess(brokerUrl: string): Promise<ChildProcess> {
  const child = forkBench('./echo-child.ts', [brokerUrl]);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('echo responder not ready within 15 s')), 15_000);
    child.once('exit', (code) => reject(new Error(`echo responder exited with code ${code}`)));
    child.on('message', (m: unknown) => {
      if ((m as { type?: string }).type === 'ready') {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return child;
}

/** Sequential round trips (after a warm-up), in microseconds, then the pipelined rate with `window` in flight. */
async function measure(
  requester: MqttClient,
  options: BaselineOptions,
  pipelined: boolean,
): Promise<{ rtts: number[]; rps: number; window: number }> {
  const waiting = new Map<number, () => void>();
  const onMessage = (_topic: string, payload: Buffer): void => {
    const n = payload.readUInt32BE(0);
    const done = waiting.get(n);
    waiting.delete(n);
    done?.();
  };
  requester.on('message', onMessage);
  let seq = 0;
  const payload = Buffer.alloc(256);
  const roundTrip = (): Promise<void> => {
    const n = seq++ >>> 0;
    const body = Buffer.from(payload);
    body.writeUInt32BE(n, 0);
    return new Promise<void>((resolve) => {
      waiting.set(n, resolve);
      requester.publish('bench/req', body, { qos: 1 });
    });
  };
  try {
    for (let i = 0; i < 200; i++) await roundTrip();
    const rtts: number[] = [];
    const sequential = options.quick ? 1500 : 5000;
    for (let i = 0; i < sequential; i++) {
      const t = nowMs();
      await roundTrip();
      rtts.push((nowMs() - t) * 1000);
    }
    const window = 256;
    if (!pipelined) return { rtts, rps: Number.NaN, window };
    const durationMs = options.quick ? 1500 : 5000;
    const start = nowMs();
    const end = start + durationMs;
    let completed = 0;
    const lane = async (): Promise<void> => {
      while (nowMs() < end) {
        await roundTrip();
        completed++;
      }
    };
    await Promise.all(Array.from({ length: window }, lane));
    return { rtts, rps: completed / ((nowMs() - start) / 1000), window };
  } finally {
    requester.off('message', onMessage);
  }
}

/**
 * Raw MQTT through a broker process, QoS 1, 256-byte payloads. The responder echoing `bench/req`
 * to `bench/resp` runs in its own process, as members do (`raw_rtt_*`, `raw_pipelined_rps`); the
 * round trip with the responder in the requester's process is reported too
 * (`raw_rtt_same_process_*`): it skips one process wake-up per trip and is markedly faster here.
 */
export async function mqttBaselines(options: BaselineOptions): Promise<Result[]> {
  const broker = await startBrokerProcess();
  const clients: MqttClient[] = [];
  let echo: ChildProcess | null = null;
  try {
    const requester = await client(broker.url);
    clients.push(requester);
    await requester.subscribeAsync('bench/resp', { qos: 1 });

    echo = await startEchoProcess(broker.url);
    const cross = await measure(requester, options, true);
    await kill(echo);

    const responder = await client(broker.url);
    clients.push(responder);
    await responder.subscribeAsync('bench/req', { qos: 1 });
    responder.on('message', (_topic, payload) => {
      responder.publish('bench/resp', payload, { qos: 1 });
    });
    const same = await measure(requester, options, false);
    const us = (values: number[], q: number): number => round(quantile(values, q));
    return [
      { metric: 'raw_rtt_p50_us', value: us(cross.rtts, 0.5), unit: 'us', payload_bytes: 256 },
      { metric: 'raw_rtt_p99_us', value: us(cross.rtts, 0.99), unit: 'us', payload_bytes: 256 },
      {
        metric: 'raw_pipelined_rps',
        value: Math.round(cross.rps),
        unit: 'req/s',
        window: cross.window,
        payload_bytes: 256,
      },
      { metric: 'raw_rtt_same_process_p50_us', value: us(same.rtts, 0.5), unit: 'us', payload_bytes: 256 },
      { metric: 'raw_rtt_same_process_p99_us', value: us(same.rtts, 0.99), unit: 'us', payload_bytes: 256 },
    ];
  } finally {
    if (echo !== null) await kill(echo);
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    await broker.stop();
  }
}

/** LevelDB synced writes: single puts per second and 64-entry batches per second. */
export async function levelBaselines(options: BaselineOptions): Promise<Result[]> {
  const dir = await mkdtemp(join(tmpdir(), 'mqtt-raft-bench-level-'));
  const db = new ClassicLevel<string, Uint8Array>(dir, { valueEncoding: 'view' });
  try {
    await db.open();
    const value = new Uint8Array(256).fill(7);
    const durationMs = options.quick ? 1000 : 3000;
    let n = 0;
    let start = nowMs();
    while (nowMs() - start < durationMs) await db.put(`p${n++}`, value, { sync: true });
    const puts = n / ((nowMs() - start) / 1000);
    let batches = 0;
    start = nowMs();
    while (nowMs() - start < durationMs) {
      const ops = Array.from({ length: 64 }, (_, i) => ({
        type: 'put' as const,
        key: `b${batches}-${i}`,
        value,
      }));
      await db.batch(ops, { sync: true });
      batches++;
    }
    const batchRate = batches / ((nowMs() - start) / 1000);
    return [
      { metric: 'level_sync_put_ops', value: Math.round(puts), unit: 'ops/s', value_bytes: 256 },
      { metric: 'level_sync_batch64_ops', value: Math.round(batchRate), unit: 'batches/s', value_bytes: 256 },
    ];
  } finally {
    await db.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}
