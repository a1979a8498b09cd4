import { describe, expect, it } from 'vitest';
import type { Configuration } from '../../src/core/types.js';
import { forwardRefusal } from '../../src/node/forwarding.js';
import type { ForwardRequest } from '../../src/transport/types.js';

const config: Configuration = {
  servers: [
    { id: 'a', suffrage: 'voter' },
    { id: 'b', suffrage: 'voter' },
  ],
};
const ids = { incarnation: 'i1', seq: 1 };

function change(kind: 'addVoter' | 'removeServer', origin: string, id: string): ForwardRequest {
  return { kind, origin, id, ...ids };
}

describe('authorization of forwarded requests', () => {
  it('refuses a request whose origin is not its sender, whatever its kind', () => {
    const apply: ForwardRequest = { kind: 'apply', origin: 'b', data: new Uint8Array(1), ...ids };
    expect(forwardRefusal(apply, 'x', config)).toMatchObject({ code: 'INVALID_INPUT', retryable: false });
    expect(forwardRefusal(change('removeServer', 'a', 'b'), 'b', config)).toMatchObject({
      code: 'INVALID_INPUT',
    });
    expect(forwardRefusal(apply, 'b', config)).toBeNull();
  });

  it('lets members change anyone, and a non-member only itself', () => {
    expect(forwardRefusal(change('removeServer', 'a', 'b'), 'a', config)).toBeNull();
    expect(forwardRefusal(change('addVoter', 'b', 'z'), 'b', config)).toBeNull();
    // A joiner adds itself, and a wiped member removes its old self first.
    expect(forwardRefusal(change('addVoter', 'z', 'z'), 'z', config)).toBeNull();
    expect(forwardRefusal(change('removeServer', 'z', 'z'), 'z', config)).toBeNull();
    expect(forwardRefusal(change('removeServer', 'z', 'a'), 'z', config)).toMatchObject({
      code: 'INVALID_INPUT',
      indefinite: false,
    });
    expect(forwardRefusal(change('addVoter', 'z', 'y'), 'z', config)).toMatchObject({
      code: 'INVALID_INPUT',
    });
  });
});
