import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UsageError } from './cli-error.js';

/** The option table of one command, in node:util's format. */
export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** Parsed option values: strings and booleans, absent when not given. */
export type OptionValues = Record<string, string | boolean | undefined>;

/**
 * Parses `argv` strictly (unknown options and missing values are errors), turning node:util's
 * TypeErrors into {@link UsageError}s. Checks the positional count against `positionals`, whose
 * names ending in `?` are optional (they come last).
 */
export function parseCommandArgs(
  argv: readonly string[],
  options: OptionSpec,
  positionals: readonly string[] = [],
): { values: OptionValues; positionals: string[] } {
  let parsed: { values: OptionValues; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: true,
    }) as { values: OptionValues; positionals: string[] };
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  if (parsed.values.help === true) return parsed;
  const given = parsed.positionals.length;
  const required = positionals.filter((name) => !name.endsWith('?'));
  if (given < required.length) {
    const missing = required.slice(given).map((name) => `<${name}>`);
    throw new UsageError(`missing ${missing.join(' and ')}`);
  }
  if (given > positionals.length) {
    throw new UsageError(`unexpected argument '${parsed.positionals[positionals.length]}'`);
  }
  return parsed;
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
