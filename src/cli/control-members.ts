/**
 * The member-management requests of the control protocol (`members`, `remove-member`,
 * `add-nonvoter`, `promote`, `demote`, `transfer-leadership`), answered through the member's
 * {@link RaftBinding}. Failures are thrown; the control server turns them into error lines.
 */
import type { RaftBinding } from '../binding/index.js';
import type { ControlResponse } from './control-protocol.js';
import type { ParsedControlRequest } from './control-schemas.js';

/** What member management needs of a member. */
export type MemberTarget = Pick<
  RaftBinding,
  'members' | 'removeMember' | 'addNonvoter' | 'promote' | 'demote' | 'transferLeadership'
>;

/** The requests this module answers. */
export type MemberRequest = Extract<
  ParsedControlRequest,
  { cmd: 'members' | 'remove-member' | 'add-nonvoter' | 'promote' | 'demote' | 'transfer-leadership' }
>;

/** True for a request {@link answerMemberRequest} answers. */
export function isMemberRequest(request: ParsedControlRequest): request is MemberRequest {
  return MEMBER_COMMANDS.has(request.cmd);
}

const MEMBER_COMMANDS = new Set<string>([
  'members',
  'remove-member',
  'add-nonvoter',
  'promote',
  'demote',
  'transfer-leadership',
]);

/** The success response to `request` (without its id). */
export async function answerMemberRequest(
  target: MemberTarget,
  request: MemberRequest,
): Promise<ControlResponse> {
  const limits =
    request.cmd === 'members' || request.timeoutMs === undefined ? {} : { timeoutMs: request.timeoutMs };
  switch (request.cmd) {
    case 'members': {
      const members = target.members().map((m) => ({
        id: m.id,
        suffrage: m.role,
        leader: m.leader,
        health: m.health === null ? null : { ...m.health },
      }));
      return { ok: true, members };
    }
    case 'remove-member':
      return changed(await target.removeMember(request.member, { ...limits, force: request.force === true }));
    case 'add-nonvoter':
      return changed(await target.addNonvoter(request.member, limits));
    case 'promote':
      return changed(await target.promote(request.member, limits));
    case 'demote':
      return changed(await target.demote(request.member, { ...limits, force: request.force === true }));
    case 'transfer-leadership': {
      const { leader } = await target.transferLeadership(request.member, limits);
      return { ok: true, leader };
    }
  }
}

function changed(result: { index: number; warnings: readonly string[] }): ControlResponse {
  return { ok: true, index: result.index, warnings: [...result.warnings] };
}
