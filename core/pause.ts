// A wait of `ms` that ends early, without an error, when `signal` aborts: for polling loops that
// stop when their caller goes away (a followed log, a port being probed). Real time: these loops
// poll the outside world, not the injected clock.
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
