import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/cli-error.js';
import { connectionSettings, PASSWORD_ENV } from '../../src/cli/connection-options.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mqtt-raft-conn-opts-'));
  await writeFile(join(dir, 'pw'), 'from-file\nsecond line ignored\n');
  await writeFile(join(dir, 'empty'), '\n');
  await writeFile(join(dir, 'ca.pem'), 'CA PEM');
  await writeFile(join(dir, 'c.pem'), 'CERT PEM');
  await writeFile(join(dir, 'k.pem'), 'KEY PEM');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('node connection options', () => {
  it('reads the password from --password-file (first line), else $MQTT_RAFT_PASSWORD', async () => {
    const env = { [PASSWORD_ENV]: 'from-env' };
    expect(await connectionSettings({ username: 'u', 'password-file': join(dir, 'pw') }, env)).toEqual({
      username: 'u',
      password: 'from-file',
    });
    expect(await connectionSettings({ username: 'u' }, env)).toEqual({ username: 'u', password: 'from-env' });
    expect(await connectionSettings({ username: 'u', password: 'flag' }, env)).toEqual({
      username: 'u',
      password: 'flag',
    });
    // A password in the environment alone, without --username, is not used.
    expect(await connectionSettings({}, env)).toEqual({});
  });

  it('refuses what cannot be meant', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ username: 'u' }, /--username and --password must be given together/],
      [{ 'password-file': join(dir, 'pw') }, /--username and --password must be given together/],
      [{ username: 'u', password: 'p', 'password-file': join(dir, 'pw') }, /not both/],
      [{ username: 'u', 'password-file': join(dir, 'empty') }, /the first line is empty/],
      [{ username: 'u', 'password-file': join(dir, 'missing') }, /--password-file .*missing: ENOENT/],
      [{ 'tls-cert': join(dir, 'c.pem') }, /--tls-cert and --tls-key must be given together/],
      [{ 'tls-ca': join(dir, 'nope.pem') }, /--tls-ca .*ENOENT/],
    ];
    for (const [values, message] of cases) {
      const settings = connectionSettings(values, {});
      await expect(settings, JSON.stringify(values)).rejects.toBeInstanceOf(UsageError);
      await expect(settings, JSON.stringify(values)).rejects.toThrow(message);
    }
  });

  it('reads TLS material from the files', async () => {
    const settings = await connectionSettings(
      {
        'tls-ca': join(dir, 'ca.pem'),
        'tls-cert': join(dir, 'c.pem'),
        'tls-key': join(dir, 'k.pem'),
        'tls-servername': 'broker.example',
      },
      {},
    );
    expect(settings).toEqual({
      tls: { ca: 'CA PEM', cert: 'CERT PEM', key: 'KEY PEM', servername: 'broker.example' },
    });
  });
});
