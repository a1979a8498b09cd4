import { describe, expect, it } from 'vitest';
import { decodeBackup, encodeBackup, restoreBackup } from '../../src/binding/backup.js';
import { RaftFsm } from '../../src/binding/raft-fsm.js';
import { Raft } from '../../src/node/raft.js';
import { RaftStore } from '../../src/storage/raft-store.js';
import { bytes } from '../support/fsm-helpers.js';

const backup = {
  index: 41,
  entries: [
    ['b', new Uint8Array([0xff, 0x00])],
    ['a', bytes('one')],
  ] as const,
};

describe('state backups', () => {
  it('round-trip through the file format, keys sorted; damage and foreign bytes are CORRUPTION', async () => {
    const file = await encodeBackup(backup);
    expect(await decodeBackup(file)).toEqual({
      index: 41,
      entries: [
        ['a', bytes('one')],
        ['b', new Uint8Array([0xff, 0x00])],
      ],
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
    });
    expect(await store.readHardState()).toEqual({ term: 1, vote: null, commit: 41 });
    expect(await Raft.hasExistingState(store)).toBe(true);
    await expect(restoreBackup(store, backup, 'r')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(restoreBackup(await RaftStore.open(''), backup, 'a/b')).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await store.close();
  });
});
