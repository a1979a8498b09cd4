/**
 * Serializes everything a node does with its core. Tasks queue up while a Ready is being
 * handled (the core takes no input between `ready()` and `advance()`), then run in order; after
 * each batch of tasks the loop asks `handleNext` to process one Ready, until there is nothing
 * left to do. Queued tasks therefore coalesce into one Ready: group commit.
 */
export class WorkLoop<Core> {
  private inbox: Array<() => void> = [];
  private running: Promise<void> | null = null;
  private stopped = false;

  /**
   * @param core what tasks operate on.
   * @param handleNext handles one Ready if there is one; resolves false when the core is idle.
   * @param onFailure called once when `handleNext` throws; the loop stops for good.
   */
  constructor(
    private readonly core: Core,
    private readonly handleNext: () => Promise<boolean>,
    private readonly onFailure: (err: unknown) => Promise<void>,
  ) {}

  /** Queues a task; dropped once the loop has stopped. */
  enqueue(task: (core: Core) => void): void {
    if (this.stopped) return;
    this.inbox.push(() => task(this.core));
    this.kick();
  }

  /** Queues a task and resolves with its result; rejects with `stoppedError()` once stopped. */
  run<T>(task: (core: Core) => T, stoppedError: () => Error): Promise<T> {
    if (this.stopped) return Promise.reject(stoppedError());
    return new Promise<T>((resolve, reject) => {
      this.inbox.push(() => {
        try {
          resolve(task(this.core));
        } catch (err) {
          reject(err);
        }
      });
      this.kick();
    });
  }

  /** Stops taking tasks and resolves once the Ready in progress, if any, is done. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  private kick(): void {
    if (this.running !== null || this.stopped) return;
    this.running = this.drain().finally(() => {
      this.running = null;
      if (this.inbox.length > 0) this.kick();
    });
  }

  private async drain(): Promise<void> {
    try {
      while (!this.stopped) {
        const tasks = this.inbox;
        this.inbox = [];
        for (const task of tasks) task();
        if (!(await this.handleNext()) && this.inbox.length === 0) return;
      }
    } catch (err) {
      this.stopped = true;
      await this.onFailure(err);
    }
  }
}
