import type { NodeId } from '../core/types.js';

/**
 * Topic names of the MQTT transport, and the rules that keep member ids, cluster names and the
 * topic root safe to put into a topic: no MQTT wildcard (`+`, `#`), no level separator (`/`) inside
 * an id or a cluster name, no control character or NUL, and no lone UTF-16 surrogate (MQTT topics
 * are UTF-8). See docs/protocol.md, "Topics".
 */

/** Longest member id or cluster name, in characters; keeps topics far below MQTT's 65,535-byte limit. */
export const MAX_NAME_LENGTH = 256;

// Control characters, wildcards and the separator; lone surrogates are checked apart.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused.
const FORBIDDEN_IN_NAME = /[\u0000-\u001f\u007f/+#]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused.
const FORBIDDEN_IN_ROOT = /[\u0000-\u001f\u007f+#]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why `name` cannot be a member id or cluster name, or null when it can. */
export function nameProblem(name: string): string | null {
  if (name.length === 0) return 'must not be empty';
  if (name.length > MAX_NAME_LENGTH) return `must be at most ${MAX_NAME_LENGTH} characters`;
  if (FORBIDDEN_IN_NAME.test(name)) return 'must not contain "/", "+", "#" or control characters';
  if (LONE_SURROGATE.test(name)) return 'must be well-formed Unicode';
  return null;
}

/** True when `name` can be a member id or cluster name (see {@link nameProblem}). */
export function isValidName(name: string): boolean {
  return typeof name === 'string' && nameProblem(name) === null;
}

/**
 * Why `root` cannot be the topic root, or null when it can. The root may have several levels
 * (`a/b`), but no empty level, and must not start with `$` (brokers reserve `$SYS/…`).
 */
export function rootProblem(root: string): string | null {
  if (root.length === 0) return 'must not be empty';
  if (root.length > MAX_NAME_LENGTH) return `must be at most ${MAX_NAME_LENGTH} characters`;
  if (root.startsWith('$')) return 'must not start with "$"';
  if (FORBIDDEN_IN_ROOT.test(root)) return 'must not contain "+", "#" or control characters';
  if (root.split('/').some((level) => level.length === 0)) return 'must not have empty levels';
  if (LONE_SURROGATE.test(root)) return 'must be well-formed Unicode';
  return null;
}

/** Where a received publish came in, as far as the transport is concerned. */
export type TopicRole = 'inbox' | 'reply' | 'broadcast' | 'multicast';

/** The topics of one cluster under one root. */
export class Topics {
  private readonly prefix: string;
  /** This node's request inbox. */
  readonly inbox: string;
  /** This node's response inbox. */
  readonly reply: string;
  /** The cluster's broadcast topic (forwarded requests when no leader is known). */
  readonly broadcast: string;
  /** The cluster's multicast topic: a leader's appends and heartbeats to several followers at once. */
  readonly multicast: string;

  constructor(root: string, cluster: string, localId: NodeId) {
    this.prefix = `${root}/${cluster}`;
    this.inbox = this.inboxOf(localId);
    this.reply = this.replyOf(localId);
    this.broadcast = `${this.prefix}/broadcast`;
    this.multicast = `${this.prefix}/multicast`;
  }

  /** The request inbox of member `id`: Raft messages, snapshot data, forwarded requests, hellos. */
  inboxOf(id: NodeId): string {
    return `${this.prefix}/node/${id}/in`;
  }

  /** The response inbox of member `id`: forward answers, snapshot acknowledgements. */
  replyOf(id: NodeId): string {
    return `${this.prefix}/node/${id}/reply`;
  }

  /** Which of this node's subscriptions `topic` is, or null for anything else. */
  roleOf(topic: string): TopicRole | null {
    if (topic === this.inbox) return 'inbox';
    if (topic === this.reply) return 'reply';
    if (topic === this.broadcast) return 'broadcast';
    if (topic === this.multicast) return 'multicast';
    return null;
  }
}

/**
 * The MQTT client id of a transport: `mqtt-raft-<cluster>-<localId>-<instance token>`. The random
 * token makes every transport instance distinct, so a second process started with the same member id
 * does not make the broker disconnect the first one (MQTT-3.1.4-2 takes over a session with the same
 * client id); the two instances detect each other with hellos instead.
 */
export function clientIdOf(cluster: string, localId: NodeId, token: string): string {
  return `mqtt-raft-${cluster}-${localId}-${token}`;
}
