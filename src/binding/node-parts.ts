/**
 * The composition root of a binding's node: the store and the transport come from `parts` when
 * given (the in-memory network, a simulated disk), else LevelDB and MQTT, as the options say.
 */
import type { Clock } from '../clock.js';
import { Raft } from '../node/raft.js';
import { RaftStore } from '../storage/raft-store.js';
import type { RaftStorage } from '../storage/types.js';
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
  const storage = await (parts.openStorage?.() ?? RaftStore.open(o.store));
  ctx.opened(storage);
  const existing = await Raft.hasExistingState(storage);
  const transportOptions = bindingTransportOptions(o, Math.max(1, deadline - clock.now()));
  const custom = parts.createTransport;
  const group =
    custom !== undefined
      ? ''
      : await settleGroup({
          id: o.id,
          broker: o.broker,
          cluster: o.cluster,
          storage,
          existing,
          bootstrap: o.bootstrap,
          deadline,
          clock,
          probe: (g) => MqttTransport.probeCluster({ ...transportOptions, group: g }, o.probeTimeout),
          logger: o.logger,
          ...(parts.randomBytes === undefined ? {} : { randomBytes: parts.randomBytes }),
        });
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
  return { raft, transport, existing };
}
