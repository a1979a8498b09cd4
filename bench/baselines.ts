/**
 * Baselines measured in the same run: raw MQTT request/response through the embedded broker (in its
 * own process), and LevelDB synced writes (classic-level) in a temp dir.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { connect, type MqttClient } from 'mqtt';
import { startBrokerProcess } from './broker.js';
import { nowMs, quantile, type Result, round } from './util.js';

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

/** Raw MQTT: a requester and a responder (echoes `bench/req` to `bench/resp`), both QoS 1. */
export async function mqttBaselines(options: BaselineOptions): Promise<Result[]> {
  const broker = await startBrokerProcess();
  const clients: MqttClient[] = [];
  try {
    const requester = await client(broker.url);
    clients.push(requester);
    const responder = await client(broker.url);
    clients.push(responder);
    await responder.subscribeAsync('bench/req', { qos: 1 });
    await requester.subscribeAsync('bench/resp', { qos: 1 });
    responder.on('message', (_topic, payload) => {
      responder.publish('bench/resp', payload, { qos: 1 });
    });
    const waiting = new Map<number, () => void>();
    requester.on('message', (_topic, payload) => {
      const n = payload.readUInt32BE(0);
      const done = waiting.get(n);
      waiting.delete(n);
      done?.();
    });
    let seq = 0;
    const payload = Buffer.alloc(256);
    const roundTrip = (): Promise<void> => {
      const n = seq++;
      const body = Buffer.from(payload);
      body.writeUInt32BE(n >>> 0, 0);
      return new Promise<void>((resolve) => {
        waiting.set(n >>> 0, resolve);
        requester.publish('bench/req', body, { qos: 1 });
      });
    };

    // Sequential round trips, after a warm-up.
    for (let i = 0; i < 200; i++) await roundTrip();
    const rtts: number[] = [];
    const sequential = options.quick ? 1500 : 5000;
    for (let i = 0; i < sequential; i++) {
      const t = nowMs();
      await roundTrip();
      rtts.push((nowMs() - t) * 1000);
    }

    // Pipelined: a window of 256 requests in flight for a fixed duration.
    const window = 256;
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
    const rps = completed / ((nowMs() - start) / 1000);
    return [
      { metric: 'raw_rtt_p50_us', value: round(quantile(rtts, 0.5)), unit: 'us', payload_bytes: 256 },
      { metric: 'raw_rtt_p99_us', value: round(quantile(rtts, 0.99)), unit: 'us', payload_bytes: 256 },
      { metric: 'raw_pipelined_rps', value: Math.round(rps), unit: 'req/s', window, payload_bytes: 256 },
    ];
  } finally {
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
