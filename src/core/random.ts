/**
 * The core's only source of randomness (election timeouts). It is injected so that a simulation
 * seeded with the same number replays exactly; the runtime seeds it from a real entropy source.
 */
export interface RandomSource {
  /** An integer in [0, bound). `bound` is a positive integer. */
  int(bound: number): number;
}

/**
 * Random bytes for identities that must differ between processes (incarnations, proposal
 * sessions, group ids). Injected like {@link RandomSource}, so a simulation replays them; the
 * runtime uses the system's cryptographic generator.
 */
export type RandomBytes = (size: number) => Uint8Array;

/**
 * A small seeded generator (sfc32, a public-domain design) returning a {@link RandomSource}.
 * Quality is ample for jittering timeouts and driving simulations; it is not for cryptography.
 */
export function seededRandom(seed: number): RandomSource & { float(): number } {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed >>> 0;
  const next = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  // Discard the first outputs: they correlate with the seed.
  for (let i = 0; i < 15; i++) next();
  return {
    float: next,
    int(bound: number): number {
      return Math.floor(next() * bound);
    },
  };
}
