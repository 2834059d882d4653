// `wrangler dev` runs the queues locally but never fires cron triggers by itself (it only serves
// /cdn-cgi/local/scheduled), so `npm start` fires wrangler.toml's crons on their schedule: the sweep of
// lost webhook enqueues every minute and the hourly housekeeping run as they do once deployed.

/** The `crons` of wrangler.toml's `[triggers]`. */
export function wranglerCrons(toml: string): string[] {
  const list = /^crons\s*=\s*\[([^\]]*)\]/m.exec(toml)?.[1] ?? "";
  return [...list.matchAll(/"([^"]+)"/g)].map((match) => match[1] as string);
}

/** minute, hour, day of month, month, day of week (0 or 7 is Sunday), as Cloudflare reads them, in UTC. */
const FIELDS = [
  { min: 0, max: 59, of: (d: Date) => d.getUTCMinutes() },
  { min: 0, max: 23, of: (d: Date) => d.getUTCHours() },
  { min: 1, max: 31, of: (d: Date) => d.getUTCDate() },
  { min: 1, max: 12, of: (d: Date) => d.getUTCMonth() + 1 },
  { min: 0, max: 7, of: (d: Date) => d.getUTCDay() },
];

/**
 * Whether `cron` fires in the minute of `date`. Numbers, `*`, lists, ranges and steps (`*\/5`, `1-10/2`);
 * names (MON, JAN) and `L`/`W`/`#` are refused, as is anything else this does not read, so that a cron
 * added to wrangler.toml is never silently skipped.
 */
export function cronMatches(cron: string, date: Date): boolean {
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== FIELDS.length) throw new Error(`Cron "${cron}": five fields expected`);
  const [minute, hour, dayOfMonth, month, dayOfWeek] = fields.map((field, i) => {
    const { min, max, of } = FIELDS[i] as (typeof FIELDS)[number];
    const value = of(date);
    return field.split(",").some((item) => {
      const match = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(item);
      if (!match) throw new Error(`Cron "${cron}": "${item}" is not read by the local scheduler`);
      const from = match[2] === undefined ? min : Number(match[2]);
      const to = match[3] !== undefined ? Number(match[3]) : match[2] === undefined || match[4] ? max : from;
      const step = Number(match[4] ?? 1);
      if (from < min || to > max || step < 1) throw new Error(`Cron "${cron}": "${item}" is out of range`);
      const matches = (v: number) => v >= from && v <= to && (v - from) % step === 0;
      // Day of week: 7 is Sunday too.
      return matches(value) || (i === 4 && value === 0 && matches(7));
    });
  });
  // As in every cron: when both day fields are restricted, either one may match.
  const [domAny, dowAny] = [fields[2] === "*", fields[4] === "*"];
  const day = domAny || dowAny ? dayOfMonth && dayOfWeek : dayOfMonth || dayOfWeek;
  return Boolean(minute && hour && month && day);
}

/**
 * Fires each of `crons` at `baseUrl` whenever it is due, from the next whole minute on, for as long as the process
 * runs, skipping the minutes the Worker is down (`serving` false).
 */
export function scheduleCrons(baseUrl: string, crons: string[], serving: () => boolean = () => true) {
  for (const cron of crons) cronMatches(cron, new Date()); // refuses what it cannot read, at start
  const fire = () => {
    if (!serving()) return;
    const at = new Date();
    for (const cron of crons.filter((c) => cronMatches(c, at))) {
      fetch(`${baseUrl}/cdn-cgi/local/scheduled?cron=${encodeURIComponent(cron)}`).catch((error: unknown) =>
        console.error(`The cron "${cron}" could not be fired: ${error instanceof Error ? error.message : error}`),
      );
    }
  };
  setTimeout(
    () => {
      fire();
      setInterval(fire, 60_000);
    },
    60_000 - (Date.now() % 60_000),
  );
}
