import type { MqttLink } from './mqtt-link.js';

/**
 * Detects a second live transport with this member id (docs/protocol.md, "Client ids and
 * duplicate members"). Each instance has a random token and announces it with a `hello` on its own
 * inbox when it connects and after every reconnection. Both instances subscribe to that inbox, so a
 * hello with a foreign token reveals the other; answering each foreign token once lets the earlier
 * instance be seen by the later one too, without an endless exchange.
 */
export class Presence {
  private readonly answered = new Set<string>();

  constructor(
    private readonly link: MqttLink,
    private readonly token: string,
    private readonly onDuplicate: (otherToken: string) => void,
  ) {}

  /** Publishes this instance's hello (QoS 1); best effort. */
  announce(): void {
    const { link } = this;
    const envelope = {
      k: 'hello' as const,
      id: '',
      f: link.localId,
      t: link.localId,
      c: link.cluster,
      b: { token: this.token },
    };
    link.publish(link.topics.inbox, envelope, 1).catch(() => undefined);
  }

  /** A hello arrived on this node's inbox. */
  heard(from: string, token: string): void {
    if (from !== this.link.localId || token === this.token) return;
    this.onDuplicate(token);
    if (!this.answered.has(token)) {
      this.answered.add(token);
      this.announce();
    }
  }
}
