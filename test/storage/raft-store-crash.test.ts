import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { RaftStore } from '../../src/storage/index.js';
import { expectedEntry, expectedHardState } from './fixtures/expected.js';
import { removeTempDirs, tempDir } from './helpers.js';

afterAll(removeTempDirs);

const WRITER = fileURLToPath(new URL('./fixtures/writer.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const ACKS_PER_ROUND = 200;
const ROUNDS = 3;
const DEADLINE_MS = 10_000;

/**
 * Runs the writer on `dir` until it has acknowledged `acks` more batches, then kills it with
 * SIGKILL (no chance to close anything) and waits for it to exit. Returns the last acked index.
 */
async function writeUntilKilled(dir: string, acks: number): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dir], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  try {
    return await new Promise<number>((resolve, reject) => {
      let buffered = '';
      let count = 0;
      let lastAcked = 0;
      const timer = setTimeout(
        () =>
          reject(
            new Error(`writer acked ${count} of ${acks} batches in ${DEADLINE_MS} ms; stderr: ${stderr}`),
          ),
        DEADLINE_MS,
      );
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`writer exited early (${code ?? signal}); stderr: ${stderr}`));
      });
      child.stdout?.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) {
          const match = /^acked (\d+)$/.exec(line);
          if (match === null) continue;
          lastAcked = Number(match[1]);
          if (++count === acks) {
            clearTimeout(timer);
            kill(child);
            resolve(lastAcked);
          }
        }
      });
    });
  } finally {
    kill(child);
    await exited;
  }
}

function kill(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

describe('RaftStore under SIGKILL', () => {
  it('keeps every acknowledged batch, whole, across repeated kills', async () => {
    const dir = await tempDir();
    let previousLast = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      const acked = await writeUntilKilled(dir, ACKS_PER_ROUND);
      expect(acked).toBeGreaterThan(previousLast);

      // Opening verifies every entry's CRC and that the indexes are contiguous.
      const store = await RaftStore.open(dir);
      try {
        expect(await store.firstIndex()).toBe(1);
        const last = await store.lastIndex();
        expect(last).toBeGreaterThanOrEqual(acked);
        const stored = await store.getLogs(1, last);
        expect(stored.length).toBe(last);
        stored.forEach((entry, i) => {
          if (entry.index !== i + 1) expect.fail(`entry ${i + 1} missing`);
          expect(entry).toEqual(expectedEntry(i + 1));
        });
        // Entries and hard state are one atomic batch: the hard state commits exactly the last batch
        // on disk, which is the last acked one or a later one that completed before the kill.
        const hardState = await store.readHardState();
        expect(hardState.commit).toBeGreaterThanOrEqual(acked);
        expect(hardState).toEqual(expectedHardState(last));
        previousLast = last;
      } finally {
        await store.close();
      }
    }
  });
});
