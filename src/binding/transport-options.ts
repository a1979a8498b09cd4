import { groupKeysFromEnv } from '../transport/group-key.js';
import type { MqttTransportOptions } from '../transport/mqtt-options.js';
import type { ResolvedBindingOptions } from './options.js';

/** The MQTT transport's options for a binding with options `o`, connecting within `connectTimeoutMs`. */
export function bindingTransportOptions(
  o: ResolvedBindingOptions,
  connectTimeoutMs: number,
): MqttTransportOptions {
  const options: MqttTransportOptions = {
    localId: o.id,
    url: o.broker,
    cluster: o.cluster,
    connectTimeoutMs,
  };
  if (o.username !== undefined) options.username = o.username;
  if (o.password !== undefined) options.password = o.password;
  if (o.tls !== undefined) options.tls = o.tls;
  if (o.logger !== undefined) options.logger = o.logger;
  return { ...options, ...groupKeyOptions(o) };
}

/** The transport's key options: the binding's own, else `MQTT_RAFT_GROUP_KEY`, else none. */
function groupKeyOptions(
  o: ResolvedBindingOptions,
): Pick<MqttTransportOptions, 'groupKey' | 'previousGroupKeys'> {
  if (o.groupKey !== undefined) {
    return o.previousGroupKeys === undefined
      ? { groupKey: o.groupKey }
      : { groupKey: o.groupKey, previousGroupKeys: o.previousGroupKeys };
  }
  const [first, ...previous] = groupKeysFromEnv() ?? [];
  return first === undefined ? {} : { groupKey: first, previousGroupKeys: previous };
}
