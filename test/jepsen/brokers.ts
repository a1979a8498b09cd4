/**
 * The broker of a fault run: the fault-injecting aedes broker in the runner's process, or a
 * mosquitto process started on a free port (no network faults there: mosquitto has no hook to
 * drop or delay single deliveries, so only process faults and broker restarts apply).
 */
import { Mosquitto } from '../support/mosquitto.js';
import type { BrokerKind, RestartableBroker } from '../support/test-broker.js';
import { FaultBroker } from './fault-broker.js';

export { mosquittoBinary } from '../support/mosquitto.js';
export type { BrokerKind } from '../support/test-broker.js';

/** What the nemesis needs from a broker. */
export interface BrokerControl extends RestartableBroker {
  /** The fault broker, or null when network faults are unavailable. */
  readonly faults: FaultBroker | null;
}

export async function startBrokerControl(
  kind: BrokerKind,
  cluster: string,
  seed: number,
): Promise<BrokerControl> {
  if (kind === 'aedes') {
    const fb = await FaultBroker.start(cluster, seed);
    return {
      kind,
      url: fb.url,
      faults: fb,
      stop: () => fb.stop(),
      startAgain: () => retry(() => fb.startAgain()),
      close: () => fb.close(),
    };
  }
  return startMosquitto();
}

/** Retries a restart that may find the port still held for a moment. */
async function retry(fn: () => Promise<void>, attempts = 20): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** A mosquitto process; no network faults there. */
async function startMosquitto(): Promise<BrokerControl> {
  const m = await Mosquitto.start();
  return {
    kind: 'mosquitto',
    url: m.url,
    faults: null,
    stop: () => m.stop(),
    startAgain: () => m.startAgain(),
    close: () => m.close(),
  };
}
