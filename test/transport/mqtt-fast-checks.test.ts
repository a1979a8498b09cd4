/**
 * The hand-written checks of the hot path against the schemas they stand in for: whatever a check
 * accepts, the schema accepts and reads the same; whatever is valid, the check accepts (or the
 * decoder would quietly fall back to the schema on every envelope).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fastBody, fastEnvelope } from '../../src/transport/mqtt-fast-checks.js';
import { controlSchemas, envelopeSchema, messageBodySchemas } from '../../src/transport/mqtt-schemas.js';
import { MAX_NAME_LENGTH } from '../../src/transport/mqtt-topics.js';

/** Fixed, so that a run is repeatable; change it to explore other inputs. */
const SEED = 20261207;
const uint = fc.oneof(fc.nat(), fc.constant(Number.MAX_SAFE_INTEGER));
const notUint = fc.oneof(
  fc.integer({ max: -1 }),
  fc.double({ noInteger: true }),
  fc.constant(Number.MAX_SAFE_INTEGER + 1),
  fc.string(),
  fc.constant(null),
  fc.boolean(),
);
const bytes = fc.uint8Array({ maxLength: 8 });
const id = fc.oneof(fc.constantFrom('a', 'b', 'node-7'), fc.string({ maxLength: 70 }));
/** Sometimes valid, sometimes not: the property must hold either way. */
const maybe = <T>(valid: fc.Arbitrary<T>, invalid: fc.Arbitrary<unknown>) =>
  fc.oneof({ weight: 4, arbitrary: valid }, { weight: 1, arbitrary: invalid });
const extra = fc.dictionary(fc.constantFrom('zz', 'extra', 'q'), fc.anything(), { maxKeys: 2 });

const entry = (valid: boolean) =>
  fc.record({
    index: valid ? uint : maybe(uint, notUint),
    term: valid ? uint : maybe(uint, notUint),
    type: valid
      ? fc.constantFrom('command', 'noop', 'config', 'barrier')
      : maybe(fc.constantFrom('command', 'noop'), fc.constantFrom('other', 1, null)),
    data: valid ? bytes : maybe(bytes, fc.oneof(fc.string(), fc.constant([1, 2]))),
  });

/** Arbitrary bodies of each hot kind, all valid when `valid`, else some fields wrong or missing. */
function bodies(valid: boolean): Record<string, fc.Arbitrary<Record<string, unknown>>> {
  const n = valid ? uint : maybe(uint, notUint);
  const bool = valid ? fc.boolean() : maybe(fc.boolean(), fc.constantFrom(0, 'true', null));
  const record = <T extends Record<string, fc.Arbitrary<unknown>>>(fields: T) =>
    fc
      .tuple(fc.record(fields, valid ? {} : { requiredKeys: [] }), valid ? fc.constant({}) : extra)
      .map(([body, more]) => ({ ...more, ...body }));
  const forwardBase = {
    origin: valid ? fc.constantFrom('a', 'b') : id,
    incarnation: valid ? fc.string({ minLength: 1, maxLength: 64 }) : fc.string({ maxLength: 70 }),
    seq: n,
  };
  return {
    appendRequest: record({
      term: n,
      prevIndex: n,
      prevTerm: n,
      entries: valid
        ? fc.array(entry(true), { maxLength: 4 })
        : maybe(fc.array(entry(false), { maxLength: 4 }), fc.string()),
      commit: n,
    }),
    appendResponse: record({ term: n, success: bool, index: n, hintIndex: n, hintTerm: n }),
    heartbeatRequest: record({ term: n, commit: n, context: n }),
    heartbeatResponse: record({ term: n, context: n }),
    forwardRequest: record({
      kind: valid ? fc.constant('apply') : fc.constantFrom('apply', 'barrier', 'addVoter', 'nope'),
      ...forwardBase,
      data: valid ? bytes : maybe(bytes, fc.string()),
    }),
    forwardResponse: record({
      ok: valid ? fc.constant(true) : fc.constantFrom(true, false, 'yes'),
      index: n,
      response: fc.anything(),
    }),
  };
}

const schemaOf = (k: string) =>
  k in messageBodySchemas
    ? messageBodySchemas[k as keyof typeof messageBodySchemas]
    : controlSchemas[k as keyof typeof controlSchemas];

describe('the hand-written checks of the hot path', () => {
  for (const [k, arbitrary] of Object.entries(bodies(false))) {
    it(`${k}: what the check accepts, the schema accepts and reads the same`, () => {
      const seen = { accepted: 0, refused: 0 };
      fc.assert(
        fc.property(arbitrary, (body) => {
          const fast = fastBody(k, body);
          const parsed = schemaOf(k).safeParse(body);
          if (fast === null) {
            seen.refused++;
            return;
          }
          seen.accepted++;
          expect(parsed.success).toBe(true);
          expect(fast).toStrictEqual(parsed.data);
        }),
        { numRuns: 1000, seed: SEED },
      );
      // Both sides of the property were exercised, not only the easy one.
      expect(seen.accepted).toBeGreaterThan(10);
      expect(seen.refused).toBeGreaterThan(10);
    });
  }

  for (const [k, arbitrary] of Object.entries(bodies(true))) {
    it(`${k}: every valid body is accepted by the check`, () => {
      fc.assert(
        fc.property(arbitrary, (body) => {
          expect(fastBody(k, body)).toStrictEqual(schemaOf(k).parse(body));
        }),
        { numRuns: 200, seed: SEED },
      );
    });
  }

  it('the other kinds, and bodies that are not objects, are left to the schema', () => {
    expect(
      fastBody('voteRequest', { term: 1, preVote: false, lastLogIndex: 0, lastLogTerm: 0, transfer: false }),
    ).toBeNull();
    expect(fastBody('snapshotChunk', { seq: 0, data: new Uint8Array(1), last: true })).toBeNull();
    expect(fastBody('toString', {})).toBeNull();
    expect(fastBody('heartbeatResponse', [1, 2])).toBeNull();
    expect(fastBody('heartbeatResponse', new Uint8Array([1]))).toBeNull();
    expect(fastBody('forwardResponse', { ok: false, error: { code: 'TIMEOUT' } })).toBeNull();
  });

  const envelopeFields = (valid: boolean) => {
    const field = <T>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<unknown>) => (valid ? good : maybe(good, bad));
    return fc
      .tuple(
        fc.record(
          {
            v: field(fc.constant(2), fc.constantFrom(1, '2')),
            k: field(fc.constantFrom('appendRequest', 'probe'), fc.constant(7)),
            id: field(
              fc.string({ maxLength: 8 }),
              fc.string({ minLength: 2 * MAX_NAME_LENGTH + 1, maxLength: 2 * MAX_NAME_LENGTH + 4 }),
            ),
            f: valid ? fc.constantFrom('a', 'b') : id,
            t: valid ? fc.constantFrom('a', null) : fc.oneof(id, fc.constant(null)),
            c: field(fc.constant('cluster'), fc.constant(null)),
            g: field(
              fc.string({ unit: fc.constantFrom('0', '1', 'a', 'f'), maxLength: 16 }),
              fc.oneof(fc.constant(null), fc.string({ minLength: 65, maxLength: 70 })),
            ),
            b: fc.anything(),
            s: field(bytes, fc.string()),
            n: field(fc.integer({ min: 1 }), fc.constantFrom(0, 1.5, -1)),
            x: field(bytes, fc.constant(3)),
          },
          { requiredKeys: valid ? ['v', 'k', 'id', 'f', 't', 'c'] : [] },
        ),
        valid ? fc.constant({}) : extra,
      )
      .map(([fields, more]) => ({ ...more, ...fields }));
  };

  it('envelopes: what the check accepts, the schema accepts and reads the same', () => {
    const seen = { accepted: 0, refused: 0 };
    fc.assert(
      fc.property(envelopeFields(false), (raw) => {
        const fast = fastEnvelope(raw);
        if (fast === null) {
          seen.refused++;
          return;
        }
        seen.accepted++;
        const parsed = envelopeSchema.safeParse(raw);
        expect(parsed.success).toBe(true);
        expect(fast).toStrictEqual(parsed.data);
      }),
      { numRuns: 1000, seed: SEED },
    );
    expect(seen.accepted).toBeGreaterThan(10);
    expect(seen.refused).toBeGreaterThan(10);
  });

  it('envelopes: every valid envelope is accepted by the check', () => {
    fc.assert(
      fc.property(envelopeFields(true), (raw) => {
        expect(fastEnvelope(raw)).toStrictEqual(envelopeSchema.parse(raw));
      }),
      { numRuns: 300, seed: SEED },
    );
    expect(fastEnvelope([1])).toBeNull();
    expect(fastEnvelope(null)).toBeNull();
  });
});
