import { afterEach, describe, expect, it, vi } from 'vitest';
import { type BindingOptions, parseBindingOptions } from '../../src/binding/options.js';
import { bindingTransportOptions } from '../../src/binding/transport-options.js';
import { RaftError } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';

const base = { id: 'a', broker: 'mqtt://127.0.0.1:1883' };
const KEY = 'ab'.repeat(32);
const OLD = 'cd'.repeat(32);

/** The INVALID_CONFIG message `options` is refused with. */
function refusal(options: Record<string, unknown>): string {
  let caught: unknown;
  try {
    parseBindingOptions({ ...base, ...options } as BindingOptions);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(RaftError);
  expect((caught as RaftError).code).toBe('INVALID_CONFIG');
  return (caught as RaftError).message;
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('binding options', () => {
  it('applies the documented defaults', () => {
    const o = parseBindingOptions(base);
    expect(o).toMatchObject({
      cluster: 'default',
      store: '',
      bootstrap: false,
      role: 'voter',
      voterLossTimeout: 30_000,
      heartbeatTimeout: 1000,
      electionTimeout: 1000,
      rpcTimeout: 1000,
      startupTimeout: 10_000,
      probeTimeout: 100,
      closeTimeout: 5000,
      snapshotInterval: 120_000,
      snapshotThreshold: 8192,
      trailingLogs: 10240,
      observerQueueLimit: 10_000,
    });
    expect(o.logger).toEqual(silentLogger);
    expect(o.voters).toBeUndefined();
    expect(o.deadMemberTimeout).toBeUndefined();
  });

  it('names the first invalid field and its rule', () => {
    expect(refusal({ id: '' })).toBe('id: must be a non-empty string');
    expect(refusal({ voters: 16 })).toBe('voters: must be from 1 to 15');
    expect(refusal({ heartbeatTimeout: 4 })).toBe('heartbeatTimeout: must be at least 5 ms');
    expect(refusal({ tls: [] })).toBe('tls: must be an object');
    expect(refusal({ tls: null })).toBe('tls: must be an object');
    expect(refusal({ tls: 'ca.pem' })).toBe('tls: must be an object');
    expect(refusal({ metrics: {} })).toBe('metrics: must be a RaftMetrics');
    expect(refusal({ metrics: null })).toBe('metrics: must be a RaftMetrics');
    expect(refusal({ metrics: { observe: true } })).toBe('metrics: must be a RaftMetrics');
    expect(refusal({ groupKey: 'short' })).toMatch(/^groupKey: /);
    expect(refusal({ groupKey: KEY, previousGroupKeys: [KEY, 'short'] })).toMatch(/^previousGroupKeys\.1: /);
  });

  it('says "options" when the whole value is not an object', () => {
    let caught: unknown;
    try {
      parseBindingOptions(null as unknown as BindingOptions);
    } catch (err) {
      caught = err;
    }
    expect((caught as RaftError).code).toBe('INVALID_CONFIG');
    expect((caught as RaftError).message).toMatch(/^options: ./);
    expect((caught as RaftError).cause).toBeDefined();
  });

  it('accepts a TLS object and a metrics registry by shape', () => {
    const metrics = { observe: () => undefined };
    const o = parseBindingOptions({ ...base, tls: { ca: 'pem' }, metrics } as unknown as BindingOptions);
    expect(o.tls).toEqual({ ca: 'pem' });
    expect(o.metrics).toBe(metrics);
  });

  it('refuses a username without a password and the reverse', () => {
    expect(refusal({ username: 'u' })).toBe('password: username and password go together');
    expect(refusal({ password: 'p' })).toBe('password: username and password go together');
    expect(parseBindingOptions({ ...base, username: 'u', password: 'p' }).username).toBe('u');
  });

  it('refuses an observer that bootstraps', () => {
    expect(refusal({ bootstrap: true, role: 'observer' })).toBe(
      'role: the member that bootstraps a group must be a voter',
    );
    expect(parseBindingOptions({ ...base, bootstrap: true }).bootstrap).toBe(true);
    expect(parseBindingOptions({ ...base, role: 'observer' }).role).toBe('observer');
  });

  it('refuses previous keys without a key, and accepts an empty list of them', () => {
    expect(refusal({ previousGroupKeys: [OLD] })).toBe('previousGroupKeys: needs groupKey');
    expect(parseBindingOptions({ ...base, previousGroupKeys: [] }).previousGroupKeys).toEqual([]);
  });

  it('holds the voter-loss and dead-member timeouts to at least the election timeout', () => {
    expect(refusal({ electionTimeout: 50, voterLossTimeout: 49 })).toBe(
      'voterLossTimeout: must be at least electionTimeout (50 ms)',
    );
    expect(parseBindingOptions({ ...base, electionTimeout: 50, voterLossTimeout: 50 }).voterLossTimeout).toBe(
      50,
    );
    expect(refusal({ electionTimeout: 50, deadMemberTimeout: 49 })).toBe(
      'deadMemberTimeout: must be at least electionTimeout (50 ms)',
    );
    expect(
      parseBindingOptions({ ...base, electionTimeout: 50, deadMemberTimeout: 50 }).deadMemberTimeout,
    ).toBe(50);
  });
});

describe('the transport options of a binding', () => {
  it('carries the id, broker, cluster, credentials, TLS and logger', () => {
    const o = parseBindingOptions({ ...base, cluster: 'c', username: 'u', password: 'p', tls: { ca: 'x' } });
    expect(bindingTransportOptions(o, 750)).toEqual({
      localId: 'a',
      url: 'mqtt://127.0.0.1:1883',
      cluster: 'c',
      connectTimeoutMs: 750,
      username: 'u',
      password: 'p',
      tls: { ca: 'x' },
      logger: silentLogger,
    });
  });

  it('leaves out what was not given, and has no key without one', () => {
    vi.stubEnv('MQTT_RAFT_GROUP_KEY', '');
    const options = bindingTransportOptions(parseBindingOptions(base), 10);
    expect(Object.keys(options).sort()).toEqual(['cluster', 'connectTimeoutMs', 'localId', 'logger', 'url']);
  });

  it("takes the binding's own keys over the environment's", () => {
    vi.stubEnv('MQTT_RAFT_GROUP_KEY', OLD);
    const only = bindingTransportOptions(parseBindingOptions({ ...base, groupKey: KEY }), 10);
    expect(only.groupKey).toBe(KEY);
    expect('previousGroupKeys' in only).toBe(false);
    const both = bindingTransportOptions(
      parseBindingOptions({ ...base, groupKey: KEY, previousGroupKeys: [OLD] }),
      10,
    );
    expect(both.groupKey).toBe(KEY);
    expect(both.previousGroupKeys).toEqual([OLD]);
  });

  it('falls back to the keys in MQTT_RAFT_GROUP_KEY, the first sealing', () => {
    vi.stubEnv('MQTT_RAFT_GROUP_KEY', `${KEY},${OLD}`);
    const options = bindingTransportOptions(parseBindingOptions(base), 10);
    expect(Buffer.from(options.groupKey as Uint8Array).toString('hex')).toBe(KEY);
    expect(
      (options.previousGroupKeys ?? []).map((k) => Buffer.from(k as Uint8Array).toString('hex')),
    ).toEqual([OLD]);
  });
});
