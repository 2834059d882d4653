// Load generation with autocannon: one scenario against the Worker, and the
// same SQL sent straight to the local SQL-over-HTTP endpoint (the floor).
import autocannon from "autocannon";

export type Stats = { rps: number; p50: number; p99: number; errors: number };

/** One measurement: each successful response's time in (fractional) milliseconds. */
export type Sample = {
  latencies: number[];
  errors: number;
  connections: number;
  /** Every response, whatever its status, and the measurement's wall time: for per-request counts and CPU. */
  responses: number;
  seconds: number;
};

export type Load = {
  url: string;
  method: "GET" | "POST" | "PATCH" | "DELETE";
  headers: Record<string, string>;
  /** A fixed body, or one per request (then each request also gets its own path from `paths`). */
  body?: string;
  /** One path (or body, or extra headers) per request, consumed in order: for writes that need a fresh row or key each time. */
  each?: { paths?: string[]; bodies?: string[]; headers?: Record<string, string>[] };
  connections: number;
  /** Seconds, or a number of requests. */
  duration?: number;
  amount?: number;
};

export async function measure(load: Load): Promise<Sample> {
  let next = 0;
  const paths = load.each?.paths;
  const bodies = load.each?.bodies;
  const extraHeaders = load.each?.headers;
  let responses = 0;
  const started = performance.now();
  // autocannon's own percentiles are whole milliseconds, too coarse for requests that take one or two; each
  // response's own time (fractional milliseconds) is kept here instead, for the successful ones as autocannon does.
  const latencies: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: load.url,
        method: load.method,
        headers: load.headers,
        body: load.body,
        connections: load.connections,
        ...(load.amount ? { amount: load.amount } : { duration: load.duration }),
        requests: load.each
          ? [
              {
                setupRequest: (request) => {
                  const i = next++;
                  const path = paths?.[i % paths.length];
                  const body = bodies?.[i % bodies.length];
                  const headers = extraHeaders?.[i % extraHeaders.length];
                  return {
                    ...request,
                    ...(path ? { path } : {}),
                    ...(body ? { body } : {}),
                    ...(headers ? { headers: { ...request.headers, ...headers } } : {}),
                  };
                },
              },
            ]
          : undefined,
      },
      (error, done) => (error ? reject(error) : resolve(done)),
    );
    instance.on("response", (_client, status, _bytes, responseTime) => {
      responses++;
      if (status >= 200 && status < 300) latencies.push(responseTime);
    });
  });
  return {
    latencies,
    errors: result.errors + result.timeouts + result.non2xx,
    connections: load.connections,
    responses,
    seconds: (performance.now() - started) / 1000,
  };
}

/** The statistics of several measurements of the same thing taken together. */
export function summarize(samples: Sample[]): Stats {
  const latencies = samples.flatMap((sample) => sample.latencies).sort((a, b) => a - b);
  const percentile = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
  const mean = latencies.reduce((sum, latency) => sum + latency, 0) / latencies.length;
  return {
    // Each connection sends its next request as soon as the last one is answered, so the rate is connections over
    // the mean latency (Little's law). autocannon's own rate counts whole seconds of its sampling, with a partial
    // one at the end of each short round.
    rps: ((samples[0]?.connections ?? 1) * 1000) / mean,
    p50: percentile(0.5),
    p99: percentile(0.99),
    errors: samples.reduce((sum, sample) => sum + sample.errors, 0),
  };
}

/** A one-line progress bar on stderr. */
export function progressBar(label: string, started = Date.now()) {
  return (done: number, total: number) => {
    const width = 30;
    const filled = Math.round((done / total) * width);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    process.stderr.write(
      `\r${label} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${Math.round((done / total) * 100)}% ${done.toLocaleString("en")}/${total.toLocaleString("en")} ${seconds}s${done === total ? "\n" : ""}`,
    );
  };
}
