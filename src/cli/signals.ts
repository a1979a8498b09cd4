/**
 * Resolves with the first SIGINT or SIGTERM. A second one exits at once with code 1: the user
 * does not want to wait for the clean shutdown.
 */
export function untilSignal(onSecond?: (signal: NodeJS.Signals) => void): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let received = false;
    const handler = (signal: NodeJS.Signals): void => {
      if (received) {
        onSecond?.(signal);
        process.exit(1);
      }
      received = true;
      resolve(signal);
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  });
}
