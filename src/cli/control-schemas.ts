/**
 * Validation of control requests (control-protocol.ts) on the member side: a request is checked
 * once, here, before anything acts on it. Kept apart so client commands do not load zod.
 */
import { z } from 'zod';
import { type ControlRequest, MAX_KEY_LENGTH } from './control-protocol.js';

const EncodingSchema = z.enum(['utf8', 'base64']);

const id = z.union([z.string(), z.number()]).optional();
const key = z
  .string()
  .min(1, 'must be a non-empty string')
  .max(MAX_KEY_LENGTH, `must be at most ${MAX_KEY_LENGTH} characters`);
const timeoutMs = z.number().int().min(1).max(3_600_000).optional();
const consistency = z.enum(['local', 'linearizable']).optional();
const memberId = z.string().min(1, 'must be a non-empty member id');
const force = z.boolean().optional();

/** Every request a member accepts (the runtime form of {@link ControlRequest}). */
export const ControlRequestSchema = z.discriminatedUnion('cmd', [
  z.object({
    id,
    cmd: z.literal('set'),
    key,
    value: z.string(),
    encoding: EncodingSchema.default('utf8'),
    timeoutMs,
  }),
  z.object({ id, cmd: z.enum(['del', 'delete']), key, timeoutMs }),
  z.object({ id, cmd: z.literal('get'), key, consistency }),
  z.object({ id, cmd: z.literal('state'), consistency }),
  z.object({ id, cmd: z.literal('members') }),
  z.object({ id, cmd: z.literal('remove-member'), member: memberId, force, timeoutMs }),
  z.object({ id, cmd: z.enum(['add-nonvoter', 'promote']), member: memberId, timeoutMs }),
  z.object({ id, cmd: z.literal('demote'), member: memberId, force, timeoutMs }),
  z.object({ id, cmd: z.literal('transfer-leadership'), member: memberId.optional(), timeoutMs }),
  z.object({ id, cmd: z.literal('status') }),
  z
    .object({
      id,
      cmd: z.literal('watch'),
      target: z.enum(['state', 'members']).default('state'),
      fromIndex: z.number().int().min(0).optional(),
    })
    .refine((r) => r.target === 'state' || r.fromIndex === undefined, {
      message: 'only a watch of the state takes fromIndex',
      path: ['fromIndex'],
    }),
]);
export type ParsedControlRequest = z.output<typeof ControlRequestSchema>;

// The schema and the documented type must not drift apart.
type Assert<T extends true> = T;
export type SchemaMatchesType = Assert<ParsedControlRequest extends ControlRequest ? true : false>;
