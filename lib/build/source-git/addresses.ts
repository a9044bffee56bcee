import { isIPv4, isIPv6 } from "node:net";

// Which IP addresses are on the public internet: a git URL (or the addresses its host resolves to) must never reach
// the platform's own network, a neighbour on the LAN, the cloud metadata service or a tenant container.

export function parseIPv4(text: string): number | null {
  if (!isIPv4(text)) return null;
  return text.split(".").reduce((acc, part) => acc * 256 + Number(part), 0);
}

function inIPv4Range(address: number, base: string, bits: number): boolean {
  const size = 2 ** (32 - bits);
  return Math.floor(address / size) === Math.floor((parseIPv4(base) ?? -1) / size);
}

// Everything that is not the public internet: a git URL must never reach the platform's own network, a neighbour on
// the LAN, the cloud metadata service or a tenant container through one of these.
const NON_PUBLIC_IPV4: ReadonlyArray<readonly [string, number]> = [
  ["0.0.0.0", 8], // "this network", 0.0.0.0 reaches the local host on Linux
  ["10.0.0.0", 8], // private
  ["100.64.0.0", 10], // carrier-grade NAT
  ["127.0.0.0", 8], // loopback
  ["169.254.0.0", 16], // link-local, cloud metadata
  ["172.16.0.0", 12], // private
  ["192.0.0.0", 24], // IETF protocol assignments
  ["192.0.2.0", 24], // documentation
  ["192.88.99.0", 24], // deprecated 6to4 relay anycast
  ["192.168.0.0", 16], // private
  ["198.18.0.0", 15], // benchmarking
  ["198.51.100.0", 24], // documentation
  ["203.0.113.0", 24], // documentation
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, broadcast
];

export function isPublicIPv4Number(address: number): boolean {
  return !NON_PUBLIC_IPV4.some(([base, bits]) => inIPv4Range(address, base, bits));
}

/** The eight 16-bit groups of an IPv6 address (a zone suffix like `%eth0` is ignored), or null. */
export function parseIPv6(input: string): number[] | null {
  const zone = input.indexOf("%");
  const text = zone >= 0 ? input.slice(0, zone) : input;
  if (!isIPv6(text)) return null;
  let head = text;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(":");
  const last = text.slice(lastColon + 1);
  if (last.includes(".")) {
    const v4 = parseIPv4(last);
    if (v4 === null) return null;
    tail.push(Math.floor(v4 / 65536), v4 % 65536);
    head = text.slice(0, lastColon + 1);
    if (!head.endsWith("::")) head = head.slice(0, -1);
  }
  const halves = head.split("::");
  if (halves.length > 2) return null;
  const parseGroups = (part: string | undefined): number[] | null => {
    if (part === undefined || part === "") return [];
    const groups = part.split(":");
    if (!groups.every((group) => /^[0-9a-f]{1,4}$/i.test(group))) return null;
    return groups.map((group) => Number.parseInt(group, 16));
  };
  const left = parseGroups(halves[0]);
  const right = halves.length === 2 ? parseGroups(halves[1]) : [];
  if (left === null || right === null) return null;
  const missing = 8 - tail.length - left.length - right.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  return [...left, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...right, ...tail];
}

function embeddedIPv4(high: number | undefined, low: number | undefined): boolean {
  return isPublicIPv4Number((high ?? 0) * 65536 + (low ?? 0));
}

export function isPublicIPv6Groups(groups: readonly number[]): boolean {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = groups;
  const zeroPrefix = (count: number): boolean => groups.slice(0, count).every((group) => group === 0);
  // IPv4-mapped (::ffff:a.b.c.d): the socket talks IPv4 to the embedded address.
  if (zeroPrefix(5) && g5 === 0xffff) return embeddedIPv4(g6, g7);
  // IPv4-translated (::ffff:0:a.b.c.d, SIIT).
  if (zeroPrefix(4) && g4 === 0xffff && g5 === 0) return embeddedIPv4(g6, g7);
  // Unspecified, loopback and the deprecated IPv4-compatible ::a.b.c.d.
  if (zeroPrefix(6)) return false;
  // NAT64 well-known prefix: DNS64 answers these for public IPv4 hosts on IPv6-only networks.
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return embeddedIPv4(g6, g7);
  // Only 2000::/3 is global unicast; this excludes ULA fc00::/7, link-local fe80::/10, site-local fec0::/10,
  // multicast ff00::/8, discard 100::/64 and local-use NAT64 64:ff9b:1::/48.
  if ((g0 & 0xe000) !== 0x2000) return false;
  if (g0 === 0x2001 && g1 < 0x0200) return false; // IETF protocol assignments incl. Teredo
  if (g0 === 0x2001 && g1 === 0x0db8) return false; // documentation
  if (g0 === 0x3fff && g1 < 0x1000) return false; // documentation (3fff::/20)
  if (g0 === 0x2002) return embeddedIPv4(g1, g2); // 6to4 carries an IPv4 address
  return true;
}

/** Whether an IP address (IPv4 or IPv6 text) is on the public internet. Anything unparseable is not. */
export function isPublicAddress(address: string): boolean {
  const v4 = parseIPv4(address);
  if (v4 !== null) return isPublicIPv4Number(v4);
  const v6 = parseIPv6(address);
  return v6 !== null && isPublicIPv6Groups(v6);
}
