/**
 * Who may connect, publish and subscribe on the embedded broker: the aedes `authenticate`,
 * `authorizePublish` and `authorizeSubscribe` hooks built from the options.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AedesOptions, AuthenticateError, Client } from 'aedes';
import type { Credentials, GroupAcl, ValidOptions } from './options.js';

/** CONNACK return code 4 in MQTT 3.1.1 (§3.2.2.3). aedes types it as an ambient const enum, which `isolatedModules` forbids reading. */
const BAD_USERNAME_OR_PASSWORD = 4;
/** Publishing to `$SYS/` is reserved to the broker; aedes's default authorizePublish enforces it too. */
const SYS_PREFIX = '$SYS/';

type Hooks = Pick<AedesOptions, 'authenticate' | 'authorizePublish' | 'authorizeSubscribe'>;

/** The hooks for `options`; an unset hook keeps aedes's default (accept). */
export function accessHooks(options: ValidOptions): Hooks {
  // aedes does not keep the username a client authenticated with; the ACL needs it for every packet.
  const usernames = new WeakMap<Client, string>();
  const hooks: Hooks = {};
  const table = options.users ?? (options.auth === undefined ? undefined : singleUser(options.auth));
  if (table !== undefined) hooks.authenticate = credentialChecker(table, usernames);
  const acl = options.acl === undefined ? undefined : new AclTemplate(options.acl);
  hooks.authorizePublish = (client, packet, done) => {
    if (packet.topic.startsWith(SYS_PREFIX)) return done(new Error(`${SYS_PREFIX} topics are reserved`));
    if (packet.retain && !options.allowRetain) return done(new Error('retained messages are refused'));
    const username = client === null ? undefined : usernames.get(client);
    if (acl !== undefined && !acl.mayPublish(username, packet.topic))
      return done(new Error(`not authorized to publish to ${packet.topic}`));
    done(null);
  };
  hooks.authorizeSubscribe = (client, subscription, done) => {
    const filter = subscription.topic;
    // A null subscription makes aedes answer 0x80 (failure) for this filter in the SUBACK.
    if (!options.allowRootWildcards && coversEveryTopic(filter)) return done(null, null);
    if (acl !== undefined && !acl.maySubscribe(usernames.get(client), filter)) return done(null, null);
    done(null, subscription);
  };
  return hooks;
}

/** A filter that reads every group's traffic (`#`, `+/…`) or the broker's own `$` topics. */
function coversEveryTopic(filter: string): boolean {
  const first = filter.split('/', 1)[0] ?? '';
  return first === '#' || first === '+' || filter.startsWith('$');
}

function singleUser(auth: Credentials): Map<string, string> {
  return new Map([[auth.username, auth.password]]);
}

/**
 * An aedes `authenticate` hook that accepts the table's username/password pairs. Passwords are
 * compared as SHA-256 digests with `timingSafeEqual`, and an unknown username is compared against a
 * dummy digest, so the response time reveals neither the password's length nor whether the
 * username exists.
 */
function credentialChecker(
  table: Map<string, string>,
  usernames: WeakMap<Client, string>,
): NonNullable<AedesOptions['authenticate']> {
  const digests = new Map(
    [...table].map(([user, password]) => [user, digest(Buffer.from(password, 'utf8'))]),
  );
  const dummy = digest(Buffer.from('no such user', 'utf8'));
  return (client, username, password, done) => {
    const expected = username === undefined ? undefined : digests.get(username);
    const given = digest(password ?? Buffer.alloc(0));
    const match = timingSafeEqual(given, expected ?? dummy);
    // Missing credentials never match: empty passwords are refused when the table is built.
    if (match && expected !== undefined && password !== undefined && username !== undefined) {
      usernames.set(client, username);
      done(null, true);
      return;
    }
    const error = new Error('bad username or password') as AuthenticateError;
    error.returnCode = BAD_USERNAME_OR_PASSWORD;
    done(error, false);
  };
}

function digest(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

/**
 * The topic layout of src/transport/mqtt-topics.ts as permissions. Under `<root>/<cluster>/`:
 * - a member subscribes to `node/<its id>/in`, `node/<its id>/reply`, `broadcast` and `multicast`;
 * - a member publishes to `node/<any id>/in` (Raft messages, snapshot chunks, forwards, its own
 *   hellos), `node/<any id>/reply` (answers), `broadcast` (forwards while no leader is known) and
 *   `multicast` (a leader's appends and heartbeats to several followers).
 * Publishing to any id, not only to listed members, matches mosquitto's `+` and keeps a member
 * connected when it addresses an id the ACL does not list yet (aedes disconnects on a refused
 * publish); only listed members can read those inboxes. Anything else is refused.
 */
class AclTemplate {
  /** username → the group prefixes (`<root>/<cluster>/`) it is a member of. */
  private readonly prefixes = new Map<string, string[]>();

  constructor(groups: Required<GroupAcl>[]) {
    for (const group of groups) {
      for (const member of group.members) {
        const list = this.prefixes.get(member) ?? [];
        list.push(`${group.root}/${group.cluster}/`);
        this.prefixes.set(member, list);
      }
    }
  }

  maySubscribe(username: string | undefined, filter: string): boolean {
    if (username === undefined) return false;
    return this.prefixesOf(username).some(
      (prefix) =>
        filter === `${prefix}node/${username}/in` ||
        filter === `${prefix}node/${username}/reply` ||
        filter === `${prefix}broadcast` ||
        filter === `${prefix}multicast`,
    );
  }

  mayPublish(username: string | undefined, topic: string): boolean {
    if (username === undefined) return false;
    return this.prefixesOf(username).some((prefix) => {
      if (!topic.startsWith(prefix)) return false;
      const rest = topic.slice(prefix.length);
      if (rest === 'broadcast' || rest === 'multicast') return true;
      const levels = rest.split('/');
      return (
        levels.length === 3 &&
        levels[0] === 'node' &&
        (levels[1] ?? '') !== '' &&
        (levels[2] === 'in' || levels[2] === 'reply')
      );
    });
  }

  private prefixesOf(username: string): string[] {
    return this.prefixes.get(username) ?? [];
  }
}
