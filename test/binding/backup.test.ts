import { describe, expect, it } from 'vitest';
import { decodeBackup, encodeBackup, restoreBackup } from '../../src/binding/backup.js';
import { RaftFsm } from '../../src/binding/raft-fsm.js';
import { Raft } from '../../src/node/raft.js';
import { crc32c } from '../../src/storage/crc32c.js';
import { RaftStore } from '../../src/storage/raft-store.js';
import { bytes } from '../support/fsm-helpers.js';

const backup = {
  index: 41,
  entries: [
    ['b', new Uint8Array([0xff, 0x00])],
    ['a', bytes('one')],
  ] as const,
};

/** `file` with its header patched by `patch` and its checksum made right again. */
function resealed(file: Uint8Array, patch: (data: Buffer) => void): Uint8Array {
  const data = Buffer.from(file);
  patch(data);
  data.writeUInt32BE(crc32c(data.subarray(0, data.length - 4)), data.length - 4);
  return new Uint8Array(data);
}

/** The shortest file that passes the header checks: magic, version 1, index 0, a right checksum. */
function headerOnly(): Uint8Array {
  const data = Buffer.alloc(8 + 1 + 8 + 4);
  data.write('MQRAFTBK', 0, 'latin1');
  data[8] = 1;
  return resealed(data, () => undefined);
}

async function decodeFailure(file: Uint8Array): Promise<unknown> {
  return decodeBackup(file).then(
    () => undefined,
    (err: unknown) => err,
  );
}

describe('state backups', () => {
  it.each([
    [
      'a file one byte short of a header and checksum',
      () => headerOnly().subarray(1),
      'backup: not an mqtt-raft backup file',
    ],
    ['a header and checksum with no state', headerOnly, 'snapshot: no key-value snapshot header'],
    [
      'version 2',
      () =>
        resealed(headerOnly(), (d) => {
          d[8] = 2;
        }),
      'backup: unsupported version 2',
    ],
  ])('refuses %s with its own message', async (_name, file, message) => {
    expect(await decodeFailure(file())).toMatchObject({ code: 'CORRUPTION', message });
  });

  it('refuses an index beyond the safe integers, and a key the library would refuse', async () => {
    const file = await encodeBackup(backup);
    const huge = resealed(file, (d) => d.writeBigUInt64BE(2n ** 60n, 9));
    expect(await decodeFailure(huge)).toMatchObject({ code: 'CORRUPTION', message: 'backup: bad index' });
    const longKey = await encodeBackup({ index: 1, entries: [['k'.repeat(1025), bytes('v')]] });
    const error = await decodeFailure(longKey);
    expect(error).toMatchObject({
      code: 'CORRUPTION',
      message: 'backup: key: must be at most 1024 characters',
    });
    expect((error as Error).cause).toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('sorts many keys given in any order', async () => {
    const keys = ['e', 'c', 'a', 'd', 'b', 'f', 'ab'];
    const file = await encodeBackup({ index: 3, entries: keys.map((k) => [k, bytes(k)] as const) });
    const decoded = await decodeBackup(file);
    expect(decoded.entries.map(([k]) => k)).toEqual(['a', 'ab', 'b', 'c', 'd', 'e', 'f']);
    expect(decoded.index).toBe(3);
  });

  it('round-trip through the file format, keys sorted; damage and foreign bytes are CORRUPTION', async () => {
    const file = await encodeBackup(backup);
    expect(await decodeBackup(file)).toEqual({
      index: 41,
      entries: [
        ['a', bytes('one')],
        ['b', new Uint8Array([0xff, 0x00])],
      ],
      settings: [],
    });
    const flipped = file.slice();
    flipped[30] = (flipped[30] ?? 0) ^ 1;
    await expect(decodeBackup(flipped)).rejects.toMatchObject({
      code: 'CORRUPTION',
      message: expect.stringContaining('checksum'),
    });
    await expect(decodeBackup(file.subarray(0, file.length - 1))).rejects.toMatchObject({
      code: 'CORRUPTION',
    });
    await expect(decodeBackup(bytes('{"not":"a backup"}'))).rejects.toMatchObject({
      code: 'CORRUPTION',
      message: 'backup: not an mqtt-raft backup file',
    });
  });

  it("carries the group's settings through the file and into the restored state", async () => {
    const settings = [
      ['voters', bytes('3')],
      ['eligible/a', bytes('1')],
    ] as const;
    const file = await encodeBackup({ ...backup, settings });
    const decoded = await decodeBackup(file);
    expect(decoded.settings).toEqual([
      ['eligible/a', bytes('1')],
      ['voters', bytes('3')],
    ]);
    expect((await decodeBackup(await encodeBackup(backup))).settings).toEqual([]);
    const store = await RaftStore.open('');
    await restoreBackup(store, decoded, 'r');
    const [record] = await store.list();
    const fsm = new RaftFsm();
    await fsm.restore((await store.open(record?.id ?? '')).chunks, record?.meta);
    expect(fsm.setting('voters')).toEqual(bytes('3'));
    expect(fsm.setting('eligible/a')).toEqual(bytes('1'));
    expect(fsm.capture().state).toEqual(
      new Map([
        ['a', bytes('one')],
        ['b', new Uint8Array([0xff, 0x00])],
      ]),
    );
    await store.close();
  });

  it('restores into a fresh store as a one-voter group at the backup index, and refuses a store with state', async () => {
    const store = await RaftStore.open('');
    await restoreBackup(store, backup, 'r');
    const [record] = await store.list();
    expect(record?.meta).toEqual({
      index: 41,
      term: 1,
      config: { servers: [{ id: 'r', suffrage: 'voter' }] },
      configIndex: 41,
    });
    const fsm = new RaftFsm();
    await fsm.restore((await store.open(record?.id ?? '')).chunks, record?.meta);
    expect(fsm.capture()).toEqual({
      index: 41,
      state: new Map([
        ['a', bytes('one')],
        ['b', new Uint8Array([0xff, 0x00])],
      ]),
      settings: new Map(),
    });
    expect(await store.readHardState()).toEqual({ term: 1, vote: null, commit: 41 });
    expect(await Raft.hasExistingState(store)).toBe(true);
    await expect(restoreBackup(store, backup, 'r')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(restoreBackup(store, backup, 'r')).rejects.toMatchObject({
      message: 'restore: the store already holds Raft state; restore into a fresh one',
    });
    await expect(restoreBackup(await RaftStore.open(''), backup, 'a/b')).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringMatching(/^restore: id: ./),
    });
    await store.close();
  });
});
