/**
 * CPU-time measurement shared by the evaluator benchmarks (SPEC 5): rates are per CPU-second of this
 * process, not wall-clock, so other load on a shared machine does not skew them; garbage-collector
 * threads count against the code measured.
 */

/** CPU time of this process in ms. */
export function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** One timed run of `once` (a pass over `items` items) for `ms` of CPU time; items per CPU-second. */
export function measure(items: number, once: () => number, ms: number): number {
  let sink = 0;
  let passes = 0;
  const start = cpuMs();
  let now = start;
  while (now - start < ms) {
    sink += once();
    passes++;
    now = cpuMs();
  }
  if (sink === -1) console.log("");
  return (passes * items) / ((now - start) / 1000);
}
