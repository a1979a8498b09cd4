import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UsageError } from './cli-error.js';

/** The option table of one command, in node:util's format. */
export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** Parsed option values: strings and booleans, absent when not given. */
export type OptionValues = Record<string, string | boolean | undefined>;

/** How {@link parseCommandArgs} reads the command line. */
export interface ParseOptions {
  /** Positionals after the required ones that may be left out. */
  optional?: readonly string[];
  /** Options not given on the command line are read from the environment (see {@link fillFromEnv}). */
  env?: EnvDefaults;
}

/**
 * Parses `argv` strictly (unknown options and missing values are errors), turning node:util's
 * TypeErrors into {@link UsageError}s. Checks the positional count against `positionals` (names ending in `?`
 * are optional and come last) and `optional`. Everything after `--` is positional, and so is a negative number anywhere (no option
 * is a digit), so `set temp -5` and `set k -- -x` both work.
 */
export function parseCommandArgs(
  argv: readonly string[],
  options: OptionSpec,
  positionals: readonly string[] = [],
  how: ParseOptions = {},
): { values: OptionValues; positionals: string[] } {
  const numbers = new Map<string, string>();
  const end = argv.indexOf('--');
  const args = argv.map((arg, i) => {
    if ((end !== -1 && i > end) || !/^-\d/.test(arg)) return arg;
    // A stand-in that does not start with '-', swapped back after parsing.
    const standIn = `\u0000${numbers.size}`;
    numbers.set(standIn, arg);
    return standIn;
  });
  const restore = (value: string): string => numbers.get(value) ?? value;
  let parsed: { values: OptionValues; positionals: string[] };
  try {
    parsed = parseArgs({
      args,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: true,
    }) as { values: OptionValues; positionals: string[] };
  } catch (err) {
    // node:util's messages already say how to pass a value that starts with '-'.
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const values: OptionValues = {};
  for (const [name, value] of Object.entries(parsed.values)) {
    values[name] = typeof value === 'string' ? restore(value) : value;
  }
  if (how.env !== undefined) fillFromEnv(values, options, how.env);
  const result = { values, positionals: parsed.positionals.map(restore) };
  if (values.help === true) return result;
  const given = result.positionals.length;
  const required = positionals.filter((name) => !name.endsWith('?'));
  const most = positionals.length + (how.optional?.length ?? 0);
  if (given < required.length) {
    const missing = required.slice(given).map((name) => `<${name}>`);
    throw new UsageError(`missing ${missing.join(' and ')}`);
  }
  if (given > most) throw new UsageError(`unexpected argument '${result.positionals[most]}'`);
  return result;
}

/** Which options the environment may give, and from where. */
export interface EnvDefaults {
  /** `MQTT_RAFT_`: `--startup-timeout` is read from `MQTT_RAFT_STARTUP_TIMEOUT`. */
  prefix: string;
  /** Options with an environment variable of their own meaning, left alone. */
  except?: readonly string[];
  source?: NodeJS.ProcessEnv;
}

/** The environment variable of option `name`. */
export function envName(prefix: string, name: string): string {
  return `${prefix}${name.toUpperCase().replaceAll('-', '_')}`;
}

/**
 * Fills every option of `spec` missing from `values` from its environment variable, when set and
 * not empty: the command line wins. A boolean takes `1`/`true`/`yes` or `0`/`false`/`no`.
 */
export function fillFromEnv(values: OptionValues, spec: OptionSpec, env: EnvDefaults): void {
  const source = env.source ?? process.env;
  for (const [name, option] of Object.entries(spec)) {
    if (values[name] !== undefined || env.except?.includes(name)) continue;
    const variable = envName(env.prefix, name);
    const raw = source[variable];
    if (raw === undefined || raw === '') continue;
    if (option.type === 'string') {
      values[name] = raw;
    } else if (/^(1|true|yes)$/i.test(raw)) {
      values[name] = true;
    } else if (!/^(0|false|no)$/i.test(raw)) {
      throw new UsageError(`$${variable} must be 1, true, yes, 0, false or no, got '${raw}'`);
    }
  }
}

/** A string option's value, or undefined. */
export function stringOption(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

/** A duration in milliseconds: plain digits only (Number('') is 0 and Number('1e3') is 1000). */
export function msOption(values: OptionValues, name: string): number | undefined {
  const raw = stringOption(values, name);
  if (raw === undefined) return undefined;
  if (!/^\d{1,9}$/.test(raw) || Number(raw) < 1) {
    throw new UsageError(`--${name} must be a whole number of milliseconds from 1, got '${raw}'`);
  }
  return Number(raw);
}

/** Name of the control socket inside a member's data directory. */
export const CONTROL_SOCKET_NAME = 'control.sock';

/**
 * The control socket a member listens on: `--control`, else `<data>/control.sock`, else (a member
 * with an in-memory store) a per-cluster, per-id socket in the temporary directory.
 */
export function memberControlPath(
  control: string | undefined,
  data: string | undefined,
  cluster: string,
  id: string,
): string {
  if (control !== undefined) return resolve(control);
  if (data !== undefined) return resolve(data, CONTROL_SOCKET_NAME);
  return join(tmpdir(), `mqtt-raft-${cluster}-${id}.sock`);
}

/** Environment variable that client commands read when neither `--control` nor `--data` is given. */
export const CONTROL_ENV = 'MQTT_RAFT_CONTROL';

/** The control socket a client command talks to: `--control`, else `<data>/control.sock`, else `$MQTT_RAFT_CONTROL`. */
export function clientControlPath(values: OptionValues): string {
  const control = stringOption(values, 'control');
  const data = stringOption(values, 'data');
  if (control !== undefined && data !== undefined) throw new UsageError('give --control or --data, not both');
  if (control !== undefined) return resolve(control);
  if (data !== undefined) return resolve(data, CONTROL_SOCKET_NAME);
  const env = process.env[CONTROL_ENV];
  if (env !== undefined && env !== '') return resolve(env);
  throw new UsageError(`say which member to talk to: --control <path>, --data <dir> or $${CONTROL_ENV}`);
}
