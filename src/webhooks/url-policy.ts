// Which URLs may receive webhooks (server-side request forgery, OWASP API7). Checked when a subscription is
// created or changed, and again before every delivery. A Worker's fetch reaches only the public internet, so these
// rules are defence in depth there; they also keep a self-hosted or local deployment from being turned on its own
// network. Names are not resolved: a public name that resolves to a private address is the platform's to refuse.

export type UrlPolicy = {
  /** Development only: also accept `http://127.0.0.1:PORT` (and https), so a developer can receive events. */
  allowLoopback: boolean;
};

export const URL_RULES =
  "An `https` URL without credentials whose host is a public domain name or a public IP address: no IP literal in a private, loopback, link-local (cloud metadata), shared (CGNAT), multicast or reserved range, no `localhost`, no `.localhost`, `.internal` or `.local` name, no single-label name, a port from 1 to 65535. Redirects are not followed.";

/** Why `url` may not receive webhooks; undefined when it may. */
export function refusedWebhookUrl(url: string, policy: UrlPolicy): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    const port = /^[a-z][a-z\d+.-]*:\/\/[^/?#]*:(\d+)(?:[/?#]|$)/i.exec(url.trim())?.[1];
    return port && Number(port) > 65535 ? "Must name a port from 1 to 65535" : "Must be an absolute URL";
  }
  if (parsed.username || parsed.password) return "Must not contain credentials";
  // The URL parser takes port 0, which no server listens on (a port over 65535 is no URL at all: above).
  if (parsed.port === "0") return "Must name a port from 1 to 65535";
  // WHATWG URL parsing has normalised the host: IPv4 in any notation (0x7f.1, 2130706433) is dotted decimal
  // now, and IPv6 is bracketed, compressed hexadecimal.
  const host = parsed.hostname.toLowerCase().replace(/\.$/, "");
  const web = parsed.protocol === "https:" || parsed.protocol === "http:";
  if (policy.allowLoopback && web && host === "127.0.0.1") return undefined;
  if (parsed.protocol !== "https:") return "Must be an https URL";
  const address = host.startsWith("[") ? refusedIpv6(host.slice(1, -1)) : refusedIpv4(host);
  if (address !== undefined) return address || undefined;
  if (host === "localhost" || host.endsWith(".localhost")) return "Must not be localhost";
  if (/(^|\.)(internal|local)$/.test(host)) return "Must not be an .internal or .local name";
  if (!host.includes(".") || !isDnsName(host)) return "Must be a public domain name";
  return undefined;
}

/**
 * A name the DNS can hold (RFC 1035, RFC 1123): labels of 1 to 63 letters, digits, hyphens (none at either end) or
 * underscores, 253 characters in all. The URL parser has written an IDN as punycode already.
 */
function isDnsName(host: string) {
  return host.length <= 253 && host.split(".").every((label) => /^[a-z\d_](?:[a-z\d_-]{0,61}[a-z\d_])?$/.test(label));
}

const RANGE_MESSAGES = {
  private: "Must not be a private address",
  loopback: "Must not be a loopback address",
  linkLocal: "Must not be a link-local or cloud metadata address",
  cgnat: "Must not be a shared (CGNAT) address",
  reserved: "Must not be an unspecified, multicast or reserved address",
} as const;

type Range = keyof typeof RANGE_MESSAGES;

/** IPv4 ranges that are no public internet host, as [first octets, prefix length, kind]. */
const IPV4_RANGES: [number[], number, Range][] = [
  [[0], 8, "reserved"],
  [[10], 8, "private"],
  [[100, 64], 10, "cgnat"],
  [[127], 8, "loopback"],
  [[169, 254], 16, "linkLocal"],
  [[172, 16], 12, "private"],
  [[192, 0, 0], 24, "reserved"],
  [[192, 0, 2], 24, "reserved"], // TEST-NET-1, documentation
  [[192, 88, 99], 24, "reserved"], // 6to4 relay anycast, deprecated (RFC 7526)
  [[192, 168], 16, "private"],
  [[198, 18], 15, "reserved"],
  [[198, 51, 100], 24, "reserved"], // TEST-NET-2
  [[203, 0, 113], 24, "reserved"], // TEST-NET-3
  [[224], 3, "reserved"], // 224.0.0.0/4 multicast and 240.0.0.0/4 reserved, broadcast included
];

const toNumber = (octets: number[]) => octets.reduce((n, octet) => n * 256 + octet, 0);

function ipv4Range(address: number): Range | undefined {
  for (const [start, bits, kind] of IPV4_RANGES) {
    const base = toNumber([...start, 0, 0, 0, 0].slice(0, 4));
    const size = 2 ** (32 - bits);
    if (address >= base && address < base + size) return kind;
  }
  return undefined;
}

/** Not an IPv4 literal: undefined; a public one: ""; otherwise why it is refused. */
function refusedIpv4(host: string): string | undefined {
  const match = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(host);
  if (!match) return undefined;
  const range = ipv4Range(toNumber(match.slice(1).map(Number)));
  return range ? RANGE_MESSAGES[range] : "";
}

/** The eight 16-bit groups of a compressed IPv6 address (as the URL parser writes it). */
function ipv6Groups(text: string): number[] | undefined {
  const [head = "", tail] = text.split("::");
  const parse = (part: string) => (part ? part.split(":").map((group) => Number.parseInt(group, 16)) : []);
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const groups = [...left, ...Array(8 - left.length - right.length).fill(0), ...right];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined;
}

function refusedIpv6(text: string): string {
  const groups = ipv6Groups(text);
  if (!groups) return RANGE_MESSAGES.reserved;
  const [first = 0] = groups;
  const embeddedIpv4 = (groups[6] ?? 0) * 65536 + (groups[7] ?? 0);
  const zeros = (from: number, to: number) => groups.slice(from, to).every((g) => g === 0);
  const v4 = (address: number) => {
    const range = ipv4Range(address);
    return range ? RANGE_MESSAGES[range] : "";
  };
  if (zeros(0, 8)) return RANGE_MESSAGES.reserved; // ::
  if (zeros(0, 7) && groups[7] === 1) return RANGE_MESSAGES.loopback; // ::1
  if (zeros(0, 5) && groups[5] === 0xffff) return v4(embeddedIpv4); // ::ffff:a.b.c.d, IPv4-mapped
  if (zeros(0, 4) && groups[4] === 0xffff && groups[5] === 0) return v4(embeddedIpv4); // ::ffff:0:a.b.c.d, translated
  if (zeros(0, 6)) return v4(embeddedIpv4); // ::a.b.c.d, IPv4-compatible (deprecated)
  if (first === 0x64 && groups[1] === 0xff9b && zeros(2, 6)) return v4(embeddedIpv4); // 64:ff9b::/96, NAT64
  // 64:ff9b:1::/48, NAT64 for local use (RFC 8215): any IPv4 address behind a local translator.
  if (first === 0x64 && groups[1] === 0xff9b && groups[2] === 1) return RANGE_MESSAGES.private;
  if (first === 0x100 && zeros(1, 4)) return RANGE_MESSAGES.reserved; // 100::/64, discard-only
  if (first === 0x2001 && (groups[1] === 0 || groups[1] === 0xdb8)) return RANGE_MESSAGES.reserved; // Teredo, documentation
  // 2001:2::/48 benchmarking, 2001:10::/28 ORCHID (deprecated): not globally reachable.
  if (first === 0x2001 && ((groups[1] === 2 && groups[2] === 0) || ((groups[1] ?? 0) & 0xfff0) === 0x10)) {
    return RANGE_MESSAGES.reserved;
  }
  if (first === 0x5f00) return RANGE_MESSAGES.reserved; // 5f00::/16, SRv6 segment identifiers (RFC 9602)
  if (first === 0x3fff && (groups[1] ?? 0) < 0x1000) return RANGE_MESSAGES.reserved; // 3fff::/20, documentation (RFC 9637)
  if (first === 0x2002) return v4((groups[1] ?? 0) * 65536 + (groups[2] ?? 0)); // 2002::/16, 6to4
  if ((first & 0xfe00) === 0xfc00) return RANGE_MESSAGES.private; // fc00::/7, unique local (AWS metadata too)
  if ((first & 0xffc0) === 0xfe80 || (first & 0xffc0) === 0xfec0) return RANGE_MESSAGES.linkLocal; // fe80::/10, fec0::/10
  if ((first & 0xff00) === 0xff00) return RANGE_MESSAGES.reserved; // ff00::/8, multicast
  return "";
}
