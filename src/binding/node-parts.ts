/**
 * The composition root of a binding's node: the store and the transport come from `parts` when
 * given (the in-memory network, a simulated disk), else LevelDB and MQTT, as the options say.
 */
import type { Clock } from '../clock.js';
import { Raft } from '../node/raft.js';
import { RaftStore } from '../storage/raft-store.js';
import type { RaftStorage } from '../storage/types.js';
import type { Prober } from '../transport/mqtt-discovery.js';
import type { MqttTransportOptions } from '../transport/mqtt-options.js';
import { MqttTransport } from '../transport/mqtt-transport.js';
import type { Transport } from '../transport/types.js';
import { settleGroup } from './group-identity.js';
import type { ResolvedBindingOptions } from './options.js';
import type { BindingParts } from './parts.js';
import type { RaftFsm } from './raft-fsm.js';
import { bindingTransportOptions } from './transport-options.js';

/** What {@link startMemberNode} needs. */
export interface MemberNodeContext {
  readonly options: ResolvedBindingOptions;
  readonly parts: BindingParts;
  readonly fsm: RaftFsm;
  readonly clock: Clock;
  readonly deadline: number;
  /** Hears of the store as soon as it is open, so that a failure later still closes it. */
  readonly opened: (storage: RaftStorage) => void;
  /** Hears of the transport as soon as it exists, for the same reason. */
  readonly connected: (transport: Transport) => void;
}

/** Opens the store, settles the group id, and starts the node on its transport. */
export async function startMemberNode(
  ctx: MemberNodeContext,
): Promise<{ raft: Raft; transport: Transport; existing: boolean }> {
  const { options: o, parts, clock, deadline } = ctx;
  const transportOptions = bindingTransportOptions(o, Math.max(1, deadline - clock.now()));
  const custom = parts.createTransport;
  const { storage, prober } = await openStoreAndProber(ctx, custom === undefined ? transportOptions : null);
  let proberClosed: Promise<void> = Promise.resolve();
  let group = '';
  let existing: boolean;
  try {
    existing = await Raft.hasExistingState(storage);
    if (prober !== null) {
      group = await settleGroup({
        id: o.id,
        broker: o.broker,
        cluster: o.cluster,
        storage,
        existing,
        bootstrap: o.bootstrap,
        deadline,
        clock,
        probe: (g) => prober.probe(g, o.probeTimeout),
        logger: o.logger,
        ...(parts.randomBytes === undefined ? {} : { randomBytes: parts.randomBytes }),
      });
    }
  } finally {
    // The prober's client has nothing more to do: it disconnects while the node starts.
    proberClosed = prober?.close().catch(() => undefined) ?? proberClosed;
  }
  if (!existing && o.bootstrap) {
    await Raft.bootstrapCluster(storage, { servers: [{ id: o.id, suffrage: 'voter' }] });
  }
  const transport = custom?.() ?? new MqttTransport({ ...transportOptions, group });
  ctx.connected(transport);
  const raft = await Raft.start({
    config: {
      localId: o.id,
      heartbeatTimeout: o.heartbeatTimeout,
      electionTimeout: o.electionTimeout,
      leaderLeaseTimeout: Math.max(5, Math.floor(o.heartbeatTimeout / 2)),
      snapshotInterval: o.snapshotInterval,
      snapshotThreshold: o.snapshotThreshold,
      trailingLogs: o.trailingLogs,
    },
    fsm: ctx.fsm,
    storage,
    transport,
    clock,
    logger: o.logger,
    // A fresh member may be a wiped one the group still lists: deaf until its old self is removed.
    listening: existing || o.bootstrap,
    ...(parts.random === undefined ? {} : { random: parts.random }),
    ...(parts.randomBytes === undefined ? {} : { randomBytes: parts.randomBytes }),
  });
  await proberClosed;
  return { raft, transport, existing };
}

/**
 * Opens the store and, on MQTT, connects the client that probes the broker, both at once; if
 * either fails, the other is closed again (the store through `ctx.opened`, by the caller).
 */
async function openStoreAndProber(
  ctx: MemberNodeContext,
  transportOptions: MqttTransportOptions | null,
): Promise<{ storage: RaftStorage; prober: Prober | null }> {
  const [storage, prober] = await Promise.allSettled([
    ctx.parts.openStorage?.() ?? RaftStore.open(ctx.options.store),
    transportOptions === null ? null : MqttTransport.openProber(transportOptions),
  ]);
  if (storage.status === 'fulfilled') ctx.opened(storage.value);
  if (storage.status === 'rejected') {
    if (prober.status === 'fulfilled') await prober.value?.close();
    throw storage.reason;
  }
  if (prober.status === 'rejected') throw prober.reason;
  return { storage: storage.value, prober: prober.value };
}
