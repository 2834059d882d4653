// What an idle pause costs the next piece of work on this machine, with no HTTP, no Worker and no database in the
// way: the same fixed work timed back to back and after each distance's pause. At a distance every process here
// sleeps through each request's wait, and on a virtual machine the same work takes longer after a pause (caches and
// predictors gone cold, the host's scheduling of its cores), so the Worker, the relay too, spends more CPU on the
// same request than at 0 ms.

/** A list page's work in miniature: parse a 30 KB SQL answer, splice its text into a body, encode the body. */
function fixedWork() {
  const inner = JSON.stringify(
    Array.from({ length: 100 }, (_, i) => ({
      id: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
      description: `Entry ${i}, "quoted"`,
      start_time: "2026-06-01T09:00:00.000Z",
      project: { id: "00000000-0000-4000-8000-000000000001", name: "Project" },
      billable: true,
      duration_seconds: 3600 + i,
    })),
  );
  const answer = new TextEncoder().encode(JSON.stringify({ fields: [{ name: "entries" }], rows: [[inner]] }));
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  return () => {
    const parsed = JSON.parse(decoder.decode(answer)) as { rows: [[string]] };
    return encoder.encode(`{"data":${parsed.rows[0][0]},"next_cursor":null}`).length;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function millisecondsPerWork(work: () => number, pauseMs: number, times: number) {
  let total = 0;
  for (let i = 0; i < times; i++) {
    if (pauseMs > 0) await sleep(pauseMs);
    const started = performance.now();
    work();
    total += performance.now() - started;
  }
  return total / times;
}

export type ColdWork = { backToBackMs: number; afterPauseMs: Record<number, number> };

/** The fixed work's mean time back to back and after a pause of each of `pausesMs`, taken in 3 interleaved rounds. */
export async function measureColdWork(pausesMs: number[]): Promise<ColdWork> {
  const work = fixedWork();
  for (let i = 0; i < 2_000; i++) work();
  const pauses = [...new Set(pausesMs.filter((ms) => ms > 0))];
  const sums: Record<number, number> = { 0: 0 };
  for (let round = 0; round < 3; round++) {
    sums[0] = (sums[0] ?? 0) + (await millisecondsPerWork(work, 0, 2_000));
    for (const ms of pauses) sums[ms] = (sums[ms] ?? 0) + (await millisecondsPerWork(work, ms, 60));
  }
  return {
    backToBackMs: (sums[0] ?? 0) / 3,
    afterPauseMs: Object.fromEntries(pauses.map((ms) => [ms, (sums[ms] ?? 0) / 3])),
  };
}
