// One operation measured three ways (API, floor, relay) in interleaved rounds, with the
// SQL requests each API request cost (counted at the endpoint) and the CPU time workerd
// spent per request of the API and of the relay.
import { LOCAL_DRIVER_HEADERS } from "../dev/database";
import type { Query } from "../dev/sql-backends";
import type { SqlHttpEndpoint } from "../dev/sql-http-endpoint";
import { type Load, measure, type Sample, type Stats, summarize } from "./load";
import type { Scenario } from "./scenarios";
import { cpuMilliseconds } from "./workerd";

export type Measured = {
  api: Stats;
  floor: Stats;
  relay: Stats;
  /** SQL requests the endpoint served per API request, over every API round. */
  sqlPerRequest: number;
  /** workerd's CPU time per request (idle use subtracted), in milliseconds; undefined without /proc. */
  cpu: { api?: number; relay?: number };
};

export type Setup = {
  base: string;
  relayUrl: string;
  endpoint: SqlHttpEndpoint;
  headers: Record<string, string>;
  workerPid: number | undefined;
  /** workerd's CPU use while idle, in milliseconds per second. */
  idleCpuRate: number | undefined;
  connections: number;
  duration: number;
  rounds: number;
  /** Records the statements the endpoint runs while `action` runs. */
  capture: (action: () => Promise<void>) => Promise<Query[]>;
};

/**
 * The statements sent while an action runs, for the floor and the relay to send again: `record` sees every statement
 * the endpoint is asked to run, `capture` returns those one action caused.
 */
export function statementRecorder() {
  let recorded: Query[] | undefined;
  return {
    record: (query: Query) => {
      recorded?.push(query);
    },
    capture: async (action: () => Promise<void>) => {
      recorded = [];
      try {
        await action();
        return recorded;
      } finally {
        recorded = undefined;
      }
    },
  };
}

const kinds = ["api", "floor", "relay"] as const;
type Kind = (typeof kinds)[number];

export async function measureInterleaved(scenario: Scenario, setup: Setup): Promise<Measured> {
  const { pool, poolIn = "path" } = scenario;
  const { base, endpoint, headers } = setup;
  const at = (id: string) => scenario.path.replace("{id}", id);
  const probePath = pool && poolIn === "path" ? at(pool.probe) : scenario.path;
  const keyed = (key: string) => ({ "Idempotency-Key": key });
  // Stragglers of the previous measurement must not be taken for the probe's SQL.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  // One request through the API tells which SQL the floor must send.
  let probe: Response | undefined;
  const statements = await setup.capture(async () => {
    probe = await fetch(`${base}${probePath}`, {
      method: scenario.method,
      headers: { ...headers, ...(pool && poolIn === "Idempotency-Key" ? keyed(pool.probe) : {}) },
      body: scenario.body,
    });
  });
  if (!probe || probe.status >= 300 || statements.length !== 1) {
    throw new Error(`${scenario.name}: ${probe?.status} with ${statements.length} statements: ${await probe?.text()}`);
  }
  const statement = statements[0] as Query;
  // The floor and the relay: the same statement, with each request's row (or key) in place of the probe's.
  const withValue = (value: string) =>
    JSON.stringify({ query: statement.query, params: statement.params.map((p) => (p === pool?.probe ? value : p)) });
  const sql = { method: "POST", headers: LOCAL_DRIVER_HEADERS, body: JSON.stringify(statement) } as const;
  const targets: Record<Kind, (values?: string[]) => Omit<Load, "connections">> = {
    api: (values) => ({
      url: `${base}${probePath}`,
      method: scenario.method,
      headers,
      body: scenario.body,
      each: values && (poolIn === "path" ? { paths: values.map(at) } : { headers: values.map(keyed) }),
    }),
    floor: (values) => ({ ...sql, url: endpoint.url, each: values && { bodies: values.map(withValue) } }),
    // Through a Worker that only passes the request on (bench/relay-worker.js).
    relay: (values) => ({ ...sql, url: setup.relayUrl, each: values && { bodies: values.map(withValue) } }),
  };
  // A fixed number of requests per round, so that no request is cut off at the end of a round (its SQL would
  // be counted without its answer): as many as fill a round at the API's pace, from three warm-up requests.
  let perRound = 0;
  if (!pool) {
    const started = performance.now();
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${base}${probePath}`, { method: scenario.method, headers, body: scenario.body });
      await res.arrayBuffer();
    }
    const latency = (performance.now() - started) / 3;
    perRound = Math.max(3, Math.round(((setup.duration / setup.rounds) * 1000) / latency)) * setup.connections;
  }
  // Interleaved in short rounds, the order turning each round, so that drift in what else the machine does
  // falls on all three alike instead of on whichever ran during a noisy stretch.
  const samples: Record<Kind, Sample[]> = { api: [], floor: [], relay: [] };
  const cpu: Record<Kind, number[]> = { api: [], floor: [], relay: [] };
  let sqlRequests = 0;
  for (let round = 0; round < setup.rounds; round++) {
    for (const [i] of kinds.entries()) {
      const kind = kinds[(i + round) % kinds.length] as Kind;
      const values = pool?.[kind].filter((_, n) => n % setup.rounds === round);
      const [cpuBefore, requestsBefore] = [cpuMilliseconds(setup.workerPid), endpoint.requests];
      const sample = await measure({
        ...targets[kind](values),
        connections: setup.connections,
        amount: values ? values.length : perRound,
      });
      // Time for a last request's SQL to be counted at the endpoint.
      await new Promise((resolve) => setTimeout(resolve, 100));
      const cpuAfter = cpuMilliseconds(setup.workerPid);
      if (kind === "api") sqlRequests += endpoint.requests - requestsBefore;
      if (cpuBefore !== undefined && cpuAfter !== undefined && setup.idleCpuRate !== undefined) {
        cpu[kind].push(cpuAfter - cpuBefore - setup.idleCpuRate * (sample.seconds + 0.1));
      }
      samples[kind].push(sample);
    }
  }
  const responses = (kind: Kind) => samples[kind].reduce((sum, sample) => sum + sample.responses, 0);
  const perRequest = (kind: Kind) =>
    cpu[kind].length === setup.rounds ? cpu[kind].reduce((sum, ms) => sum + ms, 0) / responses(kind) : undefined;
  return {
    api: summarize(samples.api),
    floor: summarize(samples.floor),
    relay: summarize(samples.relay),
    sqlPerRequest: sqlRequests / responses("api"),
    cpu: { api: perRequest("api"), relay: perRequest("relay") },
  };
}
