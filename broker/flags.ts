/**
 * The command-line flags of the embedded broker, shared by `npm run broker` (broker/cli.ts) and
 * `mqtt-raft broker` (src/cli/broker-command.ts), and their translation into {@link BrokerOptions}.
 */
import { readFile } from 'node:fs/promises';
import { RaftError } from '../src/errors.js';
import type { BrokerOptions, GroupAcl } from './options.js';

/** The flags, in node:util parseArgs's format. */
export const BROKER_FLAGS = {
  host: { type: 'string' },
  port: { type: 'string' },
  username: { type: 'string' },
  password: { type: 'string' },
  'users-file': { type: 'string' },
  'acl-file': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-ca': { type: 'string' },
  'require-client-cert': { type: 'boolean' },
  'tls-port': { type: 'string' },
  'ws-port': { type: 'string' },
  'wss-port': { type: 'string' },
  'max-packet-size': { type: 'string' },
  'allow-root-wildcards': { type: 'boolean' },
  'allow-retain': { type: 'boolean' },
} as const;

export const BROKER_FLAGS_USAGE = `  --host <host>           interface to listen on (default 127.0.0.1)
  --port <port>           plain MQTT port, 0 for any free port (default 1883)
  --tls-port <port>       also listen for MQTT over TLS (mqtts://); needs --tls-cert and --tls-key
  --ws-port <port>        also listen for MQTT over WebSocket (ws://)
  --wss-port <port>       also listen for MQTT over secure WebSocket (wss://); needs --tls-cert/--tls-key
  --tls-cert <file>, --tls-key <file>   the broker's certificate (chain) and key, PEM
  --tls-ca <file>         CA(s), PEM, that verify client certificates
  --require-client-cert   refuse TLS clients without a certificate signed by --tls-ca
  --users-file <file>     per-client credentials: a JSON object of username to password
  --acl-file <file>       ACL template: a JSON array of {"root"?, "cluster", "members": [ids]};
                          needs --users-file (a member's username is its id); all else is denied
  --username <name>, --password <password>   one shared credential (instead of --users-file;
                          the password is visible to other local users in the process list)
  --max-packet-size <n>   largest packet a client may send, in bytes, checked from its header
                          (default 8392704: 8 MiB + 4 KiB, the members' default maxMessageBytes)
  --allow-root-wildcards  allow subscriptions to '#', '+/…' and '$SYS/…' (refused by default)
  --allow-retain          allow retained publishes (refused by default)`;

/** Flag values as node:util parseArgs returns them. */
export type FlagValues = Record<string, string | boolean | undefined>;

/** Turns the flags into broker options, reading the files they name; mistakes throw `INVALID_CONFIG`. */
export async function brokerOptionsFromFlags(values: FlagValues): Promise<BrokerOptions> {
  const options: BrokerOptions = {};
  const text = (name: string): string | undefined => {
    const value = values[name];
    return typeof value === 'string' ? value : undefined;
  };
  const host = text('host');
  if (host !== undefined) options.host = host;
  const ports = [
    ['port', 'port'],
    ['tls-port', 'tlsPort'],
    ['ws-port', 'wsPort'],
    ['wss-port', 'wssPort'],
  ] as const;
  for (const [flag, field] of ports) {
    const value = text(flag);
    // Number('') is 0 and Number('1e3') is 1000, so insist on plain digits.
    if (value !== undefined) options[field] = digits(flag, value, 65535, `an integer from 0 to 65535`);
  }
  const maxPacket = text('max-packet-size');
  if (maxPacket !== undefined)
    options.maxPacketSize = digits('max-packet-size', maxPacket, 268_435_460, 'a number of bytes');
  const username = text('username');
  const password = text('password');
  if ((username === undefined) !== (password === undefined))
    usage('--username and --password must be given together');
  if (username !== undefined && password !== undefined) options.auth = { username, password };
  const usersFile = text('users-file');
  if (usersFile !== undefined)
    options.users = (await readJson(usersFile, '--users-file')) as Record<string, string>;
  const aclFile = text('acl-file');
  if (aclFile !== undefined) options.acl = (await readJson(aclFile, '--acl-file')) as GroupAcl[];
  await addTls(options, text, values['require-client-cert'] === true);
  if (values['allow-root-wildcards'] === true) options.allowRootWildcards = true;
  if (values['allow-retain'] === true) options.allowRetain = true;
  return options;
}

async function addTls(
  options: BrokerOptions,
  text: (name: string) => string | undefined,
  requireClientCert: boolean,
): Promise<void> {
  const cert = text('tls-cert');
  const key = text('tls-key');
  const ca = text('tls-ca');
  if ((cert === undefined) !== (key === undefined)) usage('--tls-cert and --tls-key must be given together');
  if (cert === undefined || key === undefined) {
    if (ca !== undefined || requireClientCert)
      usage('--tls-ca and --require-client-cert need --tls-cert and --tls-key');
    return;
  }
  options.tls = { cert: await readText(cert, '--tls-cert'), key: await readText(key, '--tls-key') };
  if (ca !== undefined) options.tls.ca = await readText(ca, '--tls-ca');
  if (requireClientCert) options.tls.requireClientCert = true;
}

function digits(flag: string, value: string, max: number, what: string): number {
  if (!/^\d{1,9}$/.test(value) || Number(value) > max) usage(`--${flag} must be ${what}, got '${value}'`);
  return Number(value);
}

async function readText(path: string, flag: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    return usage(`${flag} ${path}: ${(err as Error).message}`);
  }
}

async function readJson(path: string, flag: string): Promise<unknown> {
  const content = await readText(path, flag);
  try {
    return JSON.parse(content);
  } catch (err) {
    return usage(`${flag} ${path}: not JSON: ${(err as Error).message}`);
  }
}

function usage(message: string): never {
  throw new RaftError('INVALID_CONFIG', message);
}
