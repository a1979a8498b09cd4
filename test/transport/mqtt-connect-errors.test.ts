import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningBroker, startBroker } from '../../broker/index.js';
import { RaftBinding } from '../../src/binding/index.js';
import { isRaftError, type RaftError } from '../../src/errors.js';
import { MqttTransport, type MqttTransportOptions } from '../../src/transport/index.js';
import { freePort } from '../support/ports.js';
import { RecordingHandler } from '../support/recording-handler.js';

/**
 * A first connection that fails is reported at once, classified, instead of after connectTimeoutMs
 * with "not connected". Every case runs with a 30 s connect timeout, so a pass in well under that
 * proves the failure was not the timeout.
 */
const CONNECT_TIMEOUT_MS = 30_000;
/** Far below the timeout, with room for a slow shared CI machine. */
const AT_ONCE_MS = 2_000;

let plain: RunningBroker;
let secured: RunningBroker;

beforeAll(async () => {
  plain = await startBroker({ port: 0 });
  secured = await startBroker({ port: 0, auth: { username: 'member', password: 'right' } });
});

afterAll(async () => {
  await plain.close();
  await secured.close();
});

/** Starts a transport that must fail; returns its error and how long it took. */
async function failure(options: Partial<MqttTransportOptions> & { url: string }) {
  const transport = new MqttTransport({ localId: 'a', connectTimeoutMs: CONNECT_TIMEOUT_MS, ...options });
  const started = Date.now();
  try {
    await transport.start(new RecordingHandler());
  } catch (err) {
    await transport.close();
    if (!isRaftError(err)) throw err;
    return { error: err as RaftError, ms: Date.now() - started };
  }
  await transport.close();
  throw new Error(`${options.url}: connected, but a failure was expected`);
}

/** A port nothing listens on: the OS's choice for a server that is closed again. */
const closedPort = freePort;

describe('a failed first connection is reported at once with its cause', () => {
  it('refused: nothing listens on the port', async () => {
    const port = await closedPort();
    const { error, ms } = await failure({ url: `mqtt://127.0.0.1:${port}` });
    expect(error.code).toBe('UNREACHABLE');
    expect(error.message).toBe(
      `MQTT broker mqtt://127.0.0.1:${port}: refused: connection refused (nothing listens on 127.0.0.1:${port})`,
    );
    // A broker that is not up yet may be up later.
    expect(error.retryable).toBe(true);
    expect(ms).toBeLessThan(AT_ONCE_MS);
  });

  it('dns: the host does not resolve', async () => {
    const { error, ms } = await failure({ url: 'mqtt://no-such-broker.invalid:1883' });
    expect(error.code).toBe('UNREACHABLE');
    expect(error.message).toMatch(
      /^MQTT broker mqtt:\/\/no-such-broker\.invalid:1883: dns: cannot resolve host 'no-such-broker\.invalid' \(E[A-Z_]+\)$/,
    );
    expect(ms).toBeLessThan(AT_ONCE_MS);
  });

  it('tls: an mqtts:// URL against a plain MQTT listener', async () => {
    const url = `mqtts://127.0.0.1:${plain.port}`;
    const { error, ms } = await failure({ url, tls: { rejectUnauthorized: false } });
    expect(error.code).toBe('UNREACHABLE');
    expect(error.message).toMatch(
      /^MQTT broker mqtts:\/\/127\.0\.0\.1:\d+: tls: TLS handshake failed: .*TLS listener\?\)$/,
    );
    expect(error.retryable).toBe(false);
    expect(ms).toBeLessThan(AT_ONCE_MS);
  });

  it('protocol: a ws:// URL against a plain MQTT listener', async () => {
    const { error, ms } = await failure({ url: `ws://127.0.0.1:${plain.port}` });
    expect(error.code).toBe('UNREACHABLE');
    expect(error.message).toMatch(/: protocol: .*WebSocket/);
    expect(error.retryable).toBe(false);
    expect(ms).toBeLessThan(AT_ONCE_MS);
  });

  it('auth: a wrong password, and no credentials at all, on a broker that requires them', async () => {
    const wrong = await failure({ url: secured.url, username: 'member', password: 'wrong' });
    expect(wrong.error.code).toBe('UNREACHABLE');
    expect(wrong.error.message).toBe(
      `MQTT broker ${secured.url}: auth: bad username or password (CONNACK 4)`,
    );
    expect(wrong.error.retryable).toBe(false);
    expect(wrong.ms).toBeLessThan(AT_ONCE_MS);
    const none = await failure({ url: secured.url });
    expect(none.error.message).toMatch(/: auth: bad username or password/);
  });

  it('still connects when the broker is right (the classification fails nothing that works)', async () => {
    const transport = new MqttTransport({
      localId: 'a',
      url: secured.url,
      username: 'member',
      password: 'right',
    });
    await transport.start(new RecordingHandler());
    await transport.close();
  });
});

describe('RaftBinding checks the broker URL before it touches the disk', () => {
  it('a URL with an unknown scheme throws INVALID_CONFIG from the constructor, and open() creates no store', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mqtt-raft-badurl-'));
    const store = join(dir, 'db');
    try {
      expect(
        () => new RaftBinding({ id: 'a', broker: 'http://127.0.0.1:1883', store, bootstrap: true }),
      ).toThrowError(/url: must be a URL with protocol mqtt/);
      expect(existsSync(store)).toBe(false);
      // A URL without a host (which would otherwise fail only on connect) is refused the same way.
      for (const broker of ['mqtt://', 'tcp://']) {
        expect(() => new RaftBinding({ id: 'a', broker, store, bootstrap: true }), broker).toThrowError(
          /url: must name the broker's host/,
        );
      }
      expect(existsSync(store)).toBe(false);
      // A well-formed URL to a closed port passes the check and fails at open() with its cause.
      const binding = new RaftBinding({
        id: 'a',
        broker: `mqtt://127.0.0.1:${await closedPort()}`,
        store: '',
      });
      await expect(binding.open()).rejects.toThrowError(/refused: connection refused/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
