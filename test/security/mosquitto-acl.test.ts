import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RaftBinding } from '../../src/index.js';
import { accepts, mosquittoBinary } from '../support/mosquitto.js';
import { freePort } from '../support/ports.js';
import { waitFor } from '../support/wait.js';
import {
  closeGroup,
  expectNothingSeen,
  FORGED,
  forge,
  MEMBERS,
  OUTSIDER,
  openGroup,
  outsiderListening,
  passwordOf,
  writeAndConverge,
} from './acl-scenario.js';

/**
 * The acl_file of docs/security.md, read from the document itself, on a real mosquitto. A witness
 * user (added here, not in the document) may read the whole group: it shows that the group's
 * traffic did flow while the outsider saw none of it, and that no forged payload got through.
 *
 * The mosquitto helper below is deliberately minimal (start on a free port, wait until it accepts,
 * stop); it is meant to be folded into a shared test/support/mosquitto.ts.
 */

const MOSQUITTO = mosquittoBinary() ?? undefined;
const WITNESS = 'witness';

let dir: string;
let mosquitto: ChildProcess | null = null;
let url: string;

/** The fenced block between the acl_file markers of docs/security.md. */
async function documentedAclFile(): Promise<string> {
  const doc = await readFile(new URL('../../docs/security.md', import.meta.url), 'utf8');
  const match = /<!-- begin acl_file -->\n```text\n([\s\S]*?)```\n<!-- end acl_file -->/.exec(doc);
  if (match?.[1] === undefined) throw new Error('docs/security.md has no acl_file block');
  return match[1];
}

beforeAll(async () => {
  if (MOSQUITTO === undefined) throw new Error('mosquitto is not installed (apt-get install -y mosquitto)');
  dir = await mkdtemp(join(tmpdir(), 'mqtt-raft-mosquitto-'));
  // Started as root, mosquitto drops to the 'mosquitto' user, which must be able to read the files.
  await chmod(dir, 0o755);
  const passwd = join(dir, 'passwd');
  for (const [i, user] of [...MEMBERS, OUTSIDER, WITNESS].entries()) {
    execFileSync('mosquitto_passwd', [...(i === 0 ? ['-c'] : []), '-b', passwd, user, passwordOf(user)]);
  }
  const acl = join(dir, 'acl');
  await writeFile(acl, `${await documentedAclFile()}\nuser ${WITNESS}\ntopic read mqtt-raft/demo/#\n`);
  const port = await freePort();
  const config = join(dir, 'mosquitto.conf');
  const lines = [`listener ${port} 127.0.0.1`, 'allow_anonymous false', `password_file ${passwd}`];
  await writeFile(
    config,
    [...lines, `acl_file ${acl}`, 'persistence false', 'retain_available false', ''].join('\n'),
  );
  const child = spawn(MOSQUITTO, ['-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  mosquitto = child;
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log += chunk.toString();
  });
  url = `mqtt://127.0.0.1:${port}`;
  await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`mosquitto exited: ${log}`);
      return accepts(port);
    },
    20_000,
    'mosquitto to accept connections',
  );
}, 60_000);

afterAll(async () => {
  if (mosquitto !== null && mosquitto.exitCode === null) {
    const exited = new Promise((resolve) => mosquitto?.once('exit', resolve));
    mosquitto.kill('SIGTERM');
    await exited;
  }
  await rm(dir, { recursive: true, force: true });
});

describe('a group on mosquitto with the documented acl_file', () => {
  it('works, while a non-member with valid credentials can neither read nor publish its topics', async () => {
    const witness: MqttClient = connect(url, {
      protocolVersion: 4,
      username: WITNESS,
      password: passwordOf(WITNESS),
      reconnectPeriod: 0,
    });
    const seen: string[] = [];
    witness.on('message', (_topic, payload) => seen.push(payload.toString('latin1')));
    await new Promise<void>((resolve) => witness.once('connect', () => resolve()));
    await witness.subscribeAsync('mqtt-raft/demo/#', { qos: 1 });
    let members: RaftBinding[] = [];
    const outsider = await outsiderListening(url);
    try {
      members = await openGroup(url);
      await writeAndConverge(members, 'before');
      await forge(outsider.client);
      await writeAndConverge(members, 'after');

      expectNothingSeen(outsider);
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.filter((payload) => payload.includes(FORGED))).toEqual([]);
    } finally {
      await closeGroup(members);
      await outsider.client.endAsync(true);
      await witness.endAsync(true);
    }
  });
});
