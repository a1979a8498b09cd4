import { clientControlPath, msOption, type OptionSpec, type OptionValues } from './args.js';
import { CliError, exitCodeOf } from './cli-error.js';
import { type ControlResponse, DEFAULT_PROPOSE_TIMEOUT_MS } from './control-protocol.js';

/** Options every client command takes. */
export const CLIENT_OPTIONS = {
  control: { type: 'string' },
  data: { type: 'string' },
  timeout: { type: 'string' },
  json: { type: 'boolean' },
} as const satisfies OptionSpec;

/** The usage lines of {@link CLIENT_OPTIONS}. */
export const CLIENT_OPTIONS_USAGE = `  --control <path>  the member's control socket
  --data <dir>      the member's data directory (its socket is <dir>/control.sock)
                    (default: $MQTT_RAFT_CONTROL)
  --timeout <ms>    how long the member may take (default ${DEFAULT_PROPOSE_TIMEOUT_MS})
  --json            print the member's JSON response instead of text
  --help            show this help`;

/** Time for the member to answer beyond the request's own deadline. */
const ANSWER_MARGIN_MS = 2000;

/** Where and how long: resolved from the common client options. */
export interface ClientTarget {
  path: string;
  /** The request's own deadline (sent to the member for proposals). */
  timeoutMs: number;
  /** How long the client waits for the answer. */
  waitMs: number;
  json: boolean;
}

export function clientTarget(values: OptionValues): ClientTarget {
  const path = clientControlPath(values);
  const timeoutMs = msOption(values, 'timeout') ?? DEFAULT_PROPOSE_TIMEOUT_MS;
  return { path, timeoutMs, waitMs: timeoutMs + ANSWER_MARGIN_MS, json: values.json === true };
}

/** The successful response, or a {@link CliError} carrying the member's error code and message. */
export function expectOk(response: ControlResponse): Extract<ControlResponse, { ok: true }> {
  if (response.ok) return response;
  const { code, message, indefinite } = response.error;
  const unknown = indefinite === true ? ' (the outcome is unknown: the change may still be applied)' : '';
  throw new CliError(`${code}: ${message}${unknown}`, exitCodeOf(code), code);
}
