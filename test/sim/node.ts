import type { Configuration, Message, RaftCore, Ready } from '../../src/core/index.js';
import { MemStorage } from '../support/storage.js';

/** Builds a core for a server from what its storage holds (the simulation's crash/restart hook). */
export type CoreFactory = (id: string, storage: MemStorage, restarts: number) => RaftCore;

/** Where a crash interrupts the handling of a Ready. */
export type CrashPoint = 'beforePersist' | 'beforeSend' | 'beforeApply';

/** What handling one Ready produced, for the simulation to route and check. */
export interface ReadyOutcome {
  readonly ready: Ready;
  /** Messages to send (empty when a crash came first). */
  readonly messages: readonly Message[];
  /** Whether the storage took the Ready's state. */
  readonly persisted: boolean;
  /** Whether the committed entries were applied. */
  readonly applied: boolean;
}

/** A simulated server process: a core that a crash discards, over storage that survives it. */
export class SimNode {
  core: RaftCore | null;
  readonly storage: MemStorage;
  restarts = 0;
  /** The tick at which a crashed node comes back. */
  restartAt = 0;

  constructor(
    readonly id: string,
    config: Configuration,
    private readonly makeCore: CoreFactory,
  ) {
    this.storage = new MemStorage({ index: 0, term: 0, config, configIndex: 0 });
    this.core = makeCore(id, this.storage, 0);
  }

  get up(): boolean {
    return this.core !== null;
  }

  crash(restartAt: number): void {
    this.core = null;
    this.restartAt = restartAt;
  }

  restart(): void {
    this.restarts++;
    this.core = this.makeCore(this.id, this.storage, this.restarts);
  }

  /**
   * Handles one Ready in the contract's order: persist, send, apply, advance. A crash point stops
   * it part way, exactly as a process dying there would.
   */
  processReady(crashAt: CrashPoint | null): ReadyOutcome | null {
    const core = this.core;
    if (core === null || !core.hasReady()) return null;
    const ready = core.ready();
    if (crashAt === 'beforePersist') return { ready, messages: [], persisted: false, applied: false };
    this.storage.persist(ready);
    if (crashAt === 'beforeSend') return { ready, messages: [], persisted: true, applied: false };
    if (crashAt === 'beforeApply')
      return { ready, messages: ready.messages, persisted: true, applied: false };
    core.advance(ready);
    return { ready, messages: ready.messages, persisted: true, applied: true };
  }
}
