import { invalidInput } from './validate.js';

type State = 'open' | 'closing' | 'closed' | 'failed' | 'cancelled';

/**
 * The lifecycle both stores' snapshot sinks share. `write` and `close` are allowed while the sink
 * is open. `cancel` is allowed any time and does nothing once the snapshot is complete (or being
 * completed), so callers can cancel in a `finally` block without tracking whether `close` ran.
 */
export class SinkState {
  readonly #id: string;
  #state: State = 'open';

  constructor(id: string) {
    this.#id = id;
  }

  /** Throws `INVALID_INPUT` unless data may still be written. */
  assertWritable(): void {
    if (this.#state !== 'open') throw invalidInput(`snapshot sink ${this.#id} is ${this.#state}`);
  }

  /** Moves to `closing`; throws unless the sink is open. */
  beginClose(): void {
    this.assertWritable();
    this.#state = 'closing';
  }

  /** Records how `close` ended: a failed close leaves something for `cancel` to discard. */
  endClose(ok: boolean): void {
    this.#state = ok ? 'closed' : 'failed';
  }

  /** Marks the sink cancelled; false when there is nothing to discard (complete, completing or already cancelled). */
  cancel(): boolean {
    if (this.#state !== 'open' && this.#state !== 'failed') return false;
    this.#state = 'cancelled';
    return true;
  }
}
