/** The `node` command's broker connection options: credentials and TLS material. */
import { readFile } from 'node:fs/promises';
import type { MqttTlsOptions } from '../transport/mqtt-options.js';
import { type OptionSpec, type OptionValues, stringOption } from './args.js';
import { UsageError } from './cli-error.js';

/** Environment variable read for the broker password when neither flag gives one. */
export const PASSWORD_ENV = 'MQTT_RAFT_PASSWORD';

export const CONNECTION_OPTIONS = {
  username: { type: 'string' },
  password: { type: 'string' },
  'password-file': { type: 'string' },
  'tls-ca': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-servername': { type: 'string' },
} as const satisfies OptionSpec;

export const CONNECTION_OPTIONS_USAGE = `  --username <name>       broker username
  --password-file <file>  broker password: the file's first line (default: $${PASSWORD_ENV})
  --password <password>   broker password (visible to other local users in the process list)
  --tls-ca <file>         CA certificate(s), PEM, that verify an mqtts:// or wss:// broker
                          (default: the system's trusted roots)
  --tls-cert <file>, --tls-key <file>   client certificate and key, PEM, for a broker that asks
  --tls-servername <name> the name the broker's certificate must carry, if not the URL's host`;

/** What the flags and the environment give for the connection. */
export interface ConnectionSettings {
  username?: string;
  password?: string;
  tls?: MqttTlsOptions;
}

/**
 * Reads the credential and TLS flags. The password comes from `--password`, else `--password-file`,
 * else `$MQTT_RAFT_PASSWORD`; a username without any of them, or a password without a username, is
 * a usage error. Files are read here, so a missing one is reported before the member starts.
 */
export async function connectionSettings(
  values: OptionValues,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ConnectionSettings> {
  const settings: ConnectionSettings = {};
  const username = stringOption(values, 'username');
  const password = await passwordOf(values, env);
  const passwordFlag = values.password !== undefined || values['password-file'] !== undefined;
  if ((username === undefined && passwordFlag) || (username !== undefined && password === undefined)) {
    throw new UsageError(
      `--username and --password must be given together (the password may come from --password-file or $${PASSWORD_ENV})`,
    );
  }
  // A password only in the environment, without --username, is ignored: the variable may be set
  // for a shell session that also runs members of brokers without credentials.
  if (username !== undefined && password !== undefined) Object.assign(settings, { username, password });
  const tls = await tlsOf(values);
  if (tls !== undefined) settings.tls = tls;
  return settings;
}

async function passwordOf(values: OptionValues, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const flag = stringOption(values, 'password');
  const file = stringOption(values, 'password-file');
  if (flag !== undefined && file !== undefined)
    throw new UsageError('give --password or --password-file, not both');
  if (flag !== undefined) return flag;
  if (file !== undefined) {
    const text = await readText(file, '--password-file');
    // The first line, so a file written by `echo` (with its newline) works.
    const line = text.split(/\r?\n/, 1)[0] ?? '';
    if (line === '') throw new UsageError(`--password-file ${file}: the first line is empty`);
    return line;
  }
  const fromEnv = env[PASSWORD_ENV];
  return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
}

async function tlsOf(values: OptionValues): Promise<MqttTlsOptions | undefined> {
  const ca = stringOption(values, 'tls-ca');
  const cert = stringOption(values, 'tls-cert');
  const key = stringOption(values, 'tls-key');
  const servername = stringOption(values, 'tls-servername');
  if ((cert === undefined) !== (key === undefined)) {
    throw new UsageError('--tls-cert and --tls-key must be given together');
  }
  if (ca === undefined && cert === undefined && servername === undefined) return undefined;
  const tls: MqttTlsOptions = {};
  if (ca !== undefined) tls.ca = await readText(ca, '--tls-ca');
  if (cert !== undefined) tls.cert = await readText(cert, '--tls-cert');
  if (key !== undefined) tls.key = await readText(key, '--tls-key');
  if (servername !== undefined) tls.servername = servername;
  return tls;
}

async function readText(path: string, flag: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`${flag} ${path}: ${(err as Error).message}`);
  }
}
