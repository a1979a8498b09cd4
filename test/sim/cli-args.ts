/** A simulation command line: `--name value` pairs and the bare `--verbose`. */
export interface CliArgs {
  readonly raw: ReadonlyMap<string, string>;
  /** The value of `--name` as a non-negative integer, or `fallback` when absent. */
  int(name: string, fallback: number): number;
}

/** Parses `--name value` pairs; anything else is an error. */
export function parseCliArgs(argv: readonly string[]): CliArgs {
  const raw = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i] as string;
    if (!key.startsWith('--')) throw new Error(`unexpected argument ${key}`);
    if (key === '--verbose') raw.set('verbose', 'true');
    else raw.set(key.slice(2), argv[++i] ?? '');
  }
  return {
    raw,
    int(name, fallback) {
      const value = raw.get(name);
      if (value === undefined) return fallback;
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0)
        throw new Error(`--${name} must be a non-negative integer (got ${value})`);
      return n;
    },
  };
}
