/**
 * Fuzz target of the control socket's line decoder (src/cli): bytes from a client, in chunks cut
 * anywhere, go through the LineSplitter and each line through parseRequest, as a member's control
 * connection does.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeValue } from '../../../src/cli/control-protocol.js';
import { ControlRequestSchema } from '../../../src/cli/control-schemas.js';
import { parseRequest } from '../../../src/cli/control-server.js';
import { LineSplitter } from '../../../src/cli/line-splitter.js';
import { mutated, randomBytes, withWrongField } from '../support/arbitraries.js';
import type { FuzzTarget } from '../support/target.js';

/** The line bound of the fuzzed splitter: the member's is 1 MiB; a smaller one reaches the overflow often. */
const MAX_LINE = 4096;
const encoder = new TextEncoder();

const id = fc.option(fc.oneof(fc.string({ maxLength: 6 }), fc.integer()), { nil: undefined });
const key = fc.string({ minLength: 1, maxLength: 10 });
const request = fc.oneof(
  fc.record({
    id,
    cmd: fc.constant('set'),
    key,
    value: fc.string({ maxLength: 20 }),
    encoding: fc.constantFrom('utf8', 'base64'),
  }),
  fc.record({
    id,
    cmd: fc.constantFrom('del', 'delete'),
    key,
    timeoutMs: fc.integer({ min: 1, max: 10_000 }),
  }),
  fc.record({ id, cmd: fc.constant('get'), key, consistency: fc.constantFrom('local', 'linearizable') }),
  fc.record({ id, cmd: fc.constantFrom('state', 'members', 'status', 'watch') }),
);

const lines = fc
  .array(fc.oneof(request, withWrongField(request)), { minLength: 1, maxLength: 4 })
  .map((all) => encoder.encode(all.map((r) => `${JSON.stringify(r)}\n`).join('')));

/** JSON nested thousands of levels deep, on one line. */
const deepJson = fc
  .tuple(fc.constantFrom(['[', ']'], ['{"a":', '}']), fc.integer({ min: 100, max: 20_000 }))
  .map(([[open, close], depth]) => encoder.encode(`${open.repeat(depth)}1${close.repeat(depth)}\n`));

/** What one client sends, and where the chunks are cut. */
export interface ClientBytes {
  readonly bytes: Uint8Array;
  readonly cuts: readonly number[];
}

/**
 * Every line is at most the bound and parses to a request the schema accepts, or to a BAD_REQUEST
 * error; a RangeError comes only from a line longer than the bound.
 */
export const controlTarget: FuzzTarget<ClientBytes> = {
  name: 'cli: control request lines',
  inputs: fc.record({
    bytes: fc.oneof(
      lines,
      mutated(lines),
      randomBytes,
      deepJson,
      fc.integer({ min: MAX_LINE - 2, max: MAX_LINE + 2 }).map((n) => new Uint8Array(n).fill(0x20)),
    ),
    cuts: fc.array(fc.nat(), { maxLength: 4 }),
  }),
  size: ({ bytes }) => bytes.length,
  check({ bytes, cuts }) {
    const splitter = new LineSplitter(MAX_LINE);
    const at = [...cuts.map((c) => c % (bytes.length + 1)), bytes.length].sort((a, b) => a - b);
    let from = 0;
    let parsed = 0;
    for (const cut of at) {
      const chunk = Buffer.from(bytes.subarray(from, Math.max(from, cut)));
      from = Math.max(from, cut);
      let got: string[];
      try {
        got = splitter.push(chunk);
      } catch (err) {
        assert.ok(err instanceof RangeError, String(err));
        assert.ok(longestLine(bytes) > MAX_LINE, 'a RangeError for no line over the bound');
        return 'rejected';
      }
      for (const line of got) {
        assert.ok(Buffer.byteLength(line) <= MAX_LINE);
        const result = parseRequest(line);
        if ('error' in result) {
          assert.equal(result.error.code, 'BAD_REQUEST');
          continue;
        }
        assert.ok(ControlRequestSchema.safeParse(JSON.parse(line)).success);
        if (result.value.cmd === 'set') decodeValue(result.value.value, result.value.encoding);
        parsed++;
      }
    }
    return parsed > 0 ? 'accepted' : 'rejected';
  },
};

/** Bytes of the longest run without a newline (a line in progress counts too). */
function longestLine(bytes: Uint8Array): number {
  let longest = 0;
  let run = 0;
  for (const b of bytes) {
    run = b === 0x0a ? 0 : run + 1;
    longest = Math.max(longest, run);
  }
  return longest;
}
