import { RaftError } from '../errors.js';

/**
 * Turns the first thing that went wrong while connecting to the broker into a `RaftError` whose
 * message names the cause. mqtt.js on its own keeps retrying for `connectTimeout` and then says
 * nothing about why, so a typo in a port, a host or a scheme looked like a slow network.
 */

/** The classes of connection failure, as they appear in messages (`… : <class>: <detail>`). */
export type ConnectFailure = 'refused' | 'dns' | 'tls' | 'auth' | 'protocol' | 'network';

/** CONNACK return codes of MQTT 3.1.1 (§3.2.2.3). */
const CONNACK_REASONS: Record<number, { failure: ConnectFailure; text: string }> = {
  1: { failure: 'protocol', text: 'the broker does not accept MQTT 3.1.1 (CONNACK 1)' },
  2: { failure: 'auth', text: 'the broker refused the client id (CONNACK 2)' },
  3: { failure: 'refused', text: 'the broker is unavailable (CONNACK 3)' },
  4: { failure: 'auth', text: 'bad username or password (CONNACK 4)' },
  5: { failure: 'auth', text: 'not authorized (CONNACK 5)' },
};

/** Codes Node gives TLS failures that do not start with `ERR_SSL_`/`ERR_TLS_` (OpenSSL's verify errors). */
const TLS_VERIFY_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
]);

const TLS_SCHEMES = new Set(['mqtts:', 'ssl:', 'wss:']);
const WS_SCHEMES = new Set(['ws:', 'wss:']);

/** What the connection attempt saw before it ended. */
export interface ConnectAttempt {
  /** The broker URL as configured. */
  url: string;
  /** The first error seen (from the socket, the TLS layer, the WebSocket or the CONNACK), if any. */
  error: unknown;
  /** True when the connection closed before a CONNACK. */
  closed: boolean;
}

/**
 * The `UNREACHABLE` error for a failed first connection. Retryable only for causes that may go
 * away by themselves (nothing listening yet, a temporary DNS failure, a broker that said it is
 * unavailable); a wrong password, certificate or scheme will not.
 */
export function connectError(attempt: ConnectAttempt): RaftError {
  const { failure, detail, retryable } = classify(attempt);
  return new RaftError('UNREACHABLE', `MQTT broker ${attempt.url}: ${failure}: ${detail}`, {
    retryable,
    cause: attempt.error ?? undefined,
  });
}

interface Classified {
  failure: ConnectFailure;
  detail: string;
  retryable: boolean;
}

function classify({ url, error, closed }: ConnectAttempt): Classified {
  const scheme = schemeOf(url);
  const tls = TLS_SCHEMES.has(scheme);
  const code = (error as { code?: unknown } | null | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error ?? '');
  if (typeof code === 'number') {
    const reason = CONNACK_REASONS[code];
    if (reason !== undefined) return { ...reason, detail: reason.text, retryable: code === 3 };
    return { failure: 'protocol', detail: `CONNACK ${code}: ${message}`, retryable: false };
  }
  if (code === 'ECONNREFUSED') {
    return {
      failure: 'refused',
      detail: `connection refused (nothing listens on ${hostPort(url)})`,
      retryable: true,
    };
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME' || code === 'EAI_FAIL') {
    const host = hostOf(url);
    return {
      failure: 'dns',
      detail: `cannot resolve host '${host}' (${code})`,
      retryable: code === 'EAI_AGAIN',
    };
  }
  if (
    typeof code === 'string' &&
    (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || TLS_VERIFY_CODES.has(code))
  ) {
    return { failure: 'tls', detail: `TLS handshake failed: ${message} (${code})`, retryable: false };
  }
  if (
    tls &&
    (error === undefined || error === null || code === 'ECONNRESET' || /TLS|secure/i.test(message))
  ) {
    // The server closed during the handshake: most often a plain MQTT listener behind an mqtts:// URL.
    const what = error === undefined || error === null ? 'the server closed the connection' : message;
    return {
      failure: 'tls',
      detail: `TLS handshake failed: ${what} (is this a TLS listener?)`,
      retryable: false,
    };
  }
  if (WS_SCHEMES.has(scheme) && error !== undefined && error !== null && code !== 'ECONNRESET') {
    return {
      failure: 'protocol',
      detail: `WebSocket handshake failed: ${message} (is this a WebSocket listener?)`,
      retryable: false,
    };
  }
  if (closed && (error === undefined || error === null || code === 'ECONNRESET')) {
    // A server that speaks another protocol (a WebSocket or TLS listener, an HTTP server) hangs up
    // on our CONNECT instead of answering with a CONNACK.
    return {
      failure: 'protocol',
      detail: `the server closed the connection before answering CONNECT (is it an MQTT ${describeScheme(scheme)} listener?)`,
      retryable: false,
    };
  }
  if (code === undefined && message !== '') {
    // mqtt-packet's parser errors carry no code: the bytes that came back are not MQTT.
    return { failure: 'protocol', detail: `the server does not speak MQTT: ${message}`, retryable: false };
  }
  const suffix = typeof code === 'string' ? ` (${code})` : '';
  return { failure: 'network', detail: `${message || 'connection failed'}${suffix}`, retryable: true };
}

function schemeOf(url: string): string {
  try {
    return new URL(url).protocol;
  } catch {
    return '';
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return url;
  }
}

function hostPort(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

function describeScheme(scheme: string): string {
  if (scheme === 'ws:') return 'over WebSocket (ws)';
  if (scheme === 'wss:') return 'over secure WebSocket (wss)';
  if (TLS_SCHEMES.has(scheme)) return 'over TLS (mqtts)';
  return 'over plain TCP (mqtt)';
}
