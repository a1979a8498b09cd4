import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningBroker, startBroker } from '../../broker/index.js';
import { isRaftError, RaftBinding } from '../../src/index.js';
import { rejectionOf } from '../support/promises.js';
import { makeTestPki, type TestPki } from '../support/tls.js';
import { closeGroup, MEMBERS, openGroup, passwordOf, writeAndConverge } from './acl-scenario.js';

/**
 * A group over TLS to the embedded broker, with a throw-away CA: broker certificate verified by the
 * members, client certificates required by the broker, credentials and the ACL template on top.
 */
let pki: TestPki;
let broker: RunningBroker;

beforeAll(async () => {
  pki = await makeTestPki();
  broker = await startBroker({
    port: 0,
    tls: { key: pki.serverKey, cert: pki.serverCert, ca: pki.ca, requireClientCert: true },
    tlsPort: 0,
    wssPort: 0,
    users: Object.fromEntries(MEMBERS.map((id) => [id, passwordOf(id)])),
    acl: [{ cluster: 'demo', members: [...MEMBERS] }],
  });
}, 60_000);

afterAll(async () => {
  await broker.close();
  await pki.remove();
});

describe('a group over TLS', () => {
  for (const kind of ['mqtts', 'wss'] as const) {
    it(`commits and converges over ${kind}:// with a private CA and client certificates`, async () => {
      const url = broker.urls[kind] as string;
      expect(url.startsWith(`${kind}://`)).toBe(true);
      let members: RaftBinding[] = [];
      try {
        members = await openGroup(url, { tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey } });
        await writeAndConverge(members, kind);
      } finally {
        await closeGroup(members);
      }
    });
  }

  it('a member that does not trust the CA fails to open with a tls cause', async () => {
    const binding = new RaftBinding({
      id: 'n1',
      broker: broker.urls.mqtts as string,
      cluster: 'demo',
      username: 'n1',
      password: passwordOf('n1'),
      bootstrap: true,
      tls: { ca: pki.otherCa, cert: pki.clientCert, key: pki.clientKey },
    });
    const err = await rejectionOf(binding.open());
    expect(isRaftError(err, 'UNREACHABLE')).toBe(true);
    expect((err as Error).message).toMatch(/: tls: TLS handshake failed/);
  });
});
