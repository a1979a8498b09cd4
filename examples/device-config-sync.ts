/**
 * Devices that share their settings through an MQTT broker: three lamps form a group; when one of
 * them changes a setting (say a user turns the kitchen lamp's brightness up), every lamp observes
 * the change and applies it, in the same order. A lamp that joins later adopts the group's
 * settings from the replay. Run with `npx tsx examples/device-config-sync.ts`.
 */
import { pathToFileURL } from 'node:url';
import { startBroker } from '../broker/index.js';
import { type Input, RaftBinding } from '../src/index.js';

/** What a lamp can be configured with. */
export interface LampSettings {
  brightness?: number;
  mode?: 'auto' | 'eco' | 'night';
  color?: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function until(condition: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A lamp: a member of the group plus the settings it has applied to its (pretend) hardware. */
class Lamp {
  readonly binding: RaftBinding;
  /** What this lamp has applied, in the order it was told. */
  readonly applied: LampSettings = {};
  /** How many setting changes it has applied. */
  changes = 0;
  private readonly stop = new AbortController();

  constructor(
    readonly name: string,
    brokerUrl: string,
    bootstrap: boolean,
    private readonly log: (line: string) => void,
  ) {
    this.binding = new RaftBinding({
      id: name,
      broker: brokerUrl,
      cluster: 'lamps',
      bootstrap,
      heartbeatTimeout: 200,
      electionTimeout: 400,
    });
  }

  async start(): Promise<void> {
    await this.binding.open();
    this.log(`${this.name}: online`);
    const { signal } = this.stop;
    void (async () => {
      for await (const input of this.binding.observeStateChange({ signal })) this.apply(input);
    })();
    void (async () => {
      for await (const change of this.binding.observeMembershipChange({ signal })) {
        if (change.id !== this.name)
          this.log(`  ${this.name}: ${change.id} ${change.joined ? 'is in the group' : 'left the group'}`);
      }
    })();
  }

  /** A local change (a button press, an app): shared with every lamp through the group. */
  async change<K extends keyof LampSettings>(setting: K, value: LampSettings[K]): Promise<void> {
    this.log(`${this.name}: user sets ${setting} = ${JSON.stringify(value)}`);
    await this.binding.proposeInput(
      { op: 'set', key: setting, value: encoder.encode(JSON.stringify(value)) },
      { timeoutMs: 5000 },
    );
  }

  /** Applies a change observed from the group (our own included: the group decides the order). */
  private apply(input: Input): void {
    const key = input.key as keyof LampSettings;
    if (input.op === 'delete') {
      delete this.applied[key];
      this.log(`  ${this.name}: reset ${key}`);
    } else {
      const value = JSON.parse(decoder.decode(input.value)) as never;
      this.applied[key] = value;
      this.log(`  ${this.name}: applying ${key} = ${JSON.stringify(value)}`);
    }
    this.changes += 1;
  }

  async shutdown(): Promise<void> {
    this.stop.abort();
    await this.binding.close();
    this.log(`${this.name}: offline`);
  }
}

/**
 * Runs the example and returns the settings each lamp applied. `log` receives the printed lines
 * (default: console.log).
 */
export async function run(log: (line: string) => void = console.log): Promise<Map<string, LampSettings>> {
  const broker = await startBroker({ host: '127.0.0.1', port: 0 });
  const kitchen = new Lamp('kitchen-lamp', broker.url, true, log);
  const hall = new Lamp('hall-lamp', broker.url, false, log);
  const porch = new Lamp('porch-lamp', broker.url, false, log);
  const lamps = [kitchen, hall, porch];
  const started: Lamp[] = [];
  try {
    await kitchen.start();
    started.push(kitchen);
    // The first lamp sets the group's defaults; lamps that join later get them from the replay.
    await kitchen.change('brightness', 50);
    await kitchen.change('mode', 'auto');
    for (const lamp of [hall, porch]) {
      await lamp.start();
      started.push(lamp);
    }
    await until(() => lamps.every((l) => l.changes === 2), 'every lamp to adopt the defaults');

    await kitchen.change('brightness', 80);
    await hall.change('mode', 'night');
    await porch.change('color', 'warm-white');
    await hall.change('brightness', 30);
    await until(() => lamps.every((l) => l.changes === 6), 'every lamp to apply every change');

    const settings = new Map(lamps.map((l) => [l.name, { ...l.applied }]));
    for (const [name, applied] of settings) log(`${name}: ${JSON.stringify(applied)}`);
    return settings;
  } finally {
    for (const lamp of started.reverse()) await lamp.shutdown();
    await broker.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  run().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
