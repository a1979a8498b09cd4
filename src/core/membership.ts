import { RaftError } from '../errors.js';
import { suffrageOf, votersOf, withoutServer, withServer } from './configuration.js';
import type { Configuration, NodeId } from './types.js';

/**
 * One membership change (hashicorp/raft's operations). `prevIndex`, when given, must equal the
 * index of the configuration in force, so concurrent administrators cannot overwrite each other.
 */
export interface ConfChange {
  readonly type: 'addVoter' | 'addNonvoter' | 'demoteVoter' | 'removeServer';
  readonly id: NodeId;
  readonly prevIndex?: number;
}

/**
 * The configuration that `change` leads to, or null when it changes nothing. A server added as a
 * voter joins as `staging` and only votes once the leader has seen it catch up. Throws
 * `INVALID_INPUT` for changes that would leave the group without voters.
 */
export function planConfChange(config: Configuration, change: ConfChange): Configuration | null {
  if (typeof change.id !== 'string' || change.id === '') {
    throw new RaftError('INVALID_INPUT', 'membership change: id must be a non-empty string');
  }
  const current = suffrageOf(config, change.id);
  switch (change.type) {
    case 'addVoter':
      if (current === 'voter' || current === 'staging') return null;
      return withServer(config, { id: change.id, suffrage: 'staging' });
    case 'addNonvoter':
      if (current !== undefined) return null;
      return withServer(config, { id: change.id, suffrage: 'nonvoter' });
    case 'demoteVoter':
      if (current !== 'voter' && current !== 'staging') return null;
      return requireVoters(withServer(config, { id: change.id, suffrage: 'nonvoter' }), change);
    case 'removeServer':
      if (current === undefined) return null;
      return requireVoters(withoutServer(config, change.id), change);
    default:
      throw new RaftError(
        'INVALID_INPUT',
        `membership change: unknown type ${String((change as ConfChange).type)}`,
      );
  }
}

/** The configuration with staging server `id` promoted to voter. */
export function promote(config: Configuration, id: NodeId): Configuration {
  return withServer(config, { id, suffrage: 'voter' });
}

function requireVoters(next: Configuration, change: ConfChange): Configuration {
  if (votersOf(next).length === 0) {
    throw new RaftError(
      'INVALID_INPUT',
      `membership change: ${change.type} of ${change.id} would leave no voter`,
    );
  }
  return next;
}
