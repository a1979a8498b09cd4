import { readFileSync } from 'node:fs';

/**
 * The version in the package's package.json: two directories up from this file in the sources
 * (src/cli), three in the build (dist/src/cli).
 */
export function packageVersion(): string {
  for (const path of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as {
        name?: unknown;
        version?: unknown;
      };
      if (pkg.name === 'mqtt-raft' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // Not there in this layout: try the other.
    }
  }
  return 'unknown';
}
