// A tiny authoritative-and-recursive-looking DNS server over UDP on 127.0.0.1, for tests: the real node:dns Resolver
// (c-ares) talks to it through TUSSILAGO_DNS_RESOLVERS, so timeouts, NXDOMAIN, NODATA and SERVFAIL are exercised as
// the platform will meet them. Packets are encoded and decoded by dns-packet (a maintained codec), not by hand.
import { createSocket, type RemoteInfo } from "node:dgram";
import dnsPacket, { type Answer, type Packet } from "dns-packet";

type RecordType = "A" | "AAAA" | "TXT" | "CNAME";
type Entry = { records: Partial<Record<RecordType, string[]>>; behaviour?: "servfail" | "drop" };

const NOERROR = 0;
const SERVFAIL = 2;
const NXDOMAIN = 3;

export type FakeDns = {
  /** host:port, as TUSSILAGO_DNS_RESOLVERS takes it. */
  address: string;
  /** Replaces the records of one type of a name (an empty list leaves the name existing, without that type). */
  set(name: string, type: RecordType, values: string[]): void;
  /** Forgets a name entirely: queries for it answer NXDOMAIN. */
  remove(name: string): void;
  /** Every query for the name answers SERVFAIL ("servfail") or none at all ("drop": the client times out). */
  fail(name: string, behaviour: "servfail" | "drop"): void;
  /** The questions received, as "<TYPE> <name>". */
  queries: string[];
  close(): Promise<void>;
};

function key(name: string): string {
  return name.toLowerCase().replace(/\.$/, "");
}

export async function startFakeDns(): Promise<FakeDns> {
  const zone = new Map<string, Entry>();
  const queries: string[] = [];
  const socket = createSocket("udp4");

  function answersFor(name: string, type: string, depth = 0): { rcode: number; answers: Answer[] } | "drop" {
    const entry = zone.get(key(name));
    if (!entry) return { rcode: NXDOMAIN, answers: [] };
    if (entry.behaviour === "drop") return "drop";
    if (entry.behaviour === "servfail") return { rcode: SERVFAIL, answers: [] };
    const cname = entry.records.CNAME?.[0];
    if (cname && type !== "CNAME" && depth < 8) {
      // As a recursive resolver does: the CNAME, then what its target holds.
      const rest = answersFor(cname, type, depth + 1);
      if (rest === "drop") return rest;
      const link: Answer = { type: "CNAME", name, ttl: 5, data: cname };
      return { rcode: rest.rcode === NXDOMAIN ? NOERROR : rest.rcode, answers: [link, ...rest.answers] };
    }
    const values = entry.records[type as RecordType] ?? [];
    const answers = values.map((value): Answer => {
      if (type === "TXT") return { type: "TXT", name, ttl: 5, data: [value] };
      if (type === "CNAME") return { type: "CNAME", name, ttl: 5, data: value };
      if (type === "AAAA") return { type: "AAAA", name, ttl: 5, data: value };
      return { type: "A", name, ttl: 5, data: value };
    });
    return { rcode: NOERROR, answers };
  }

  socket.on("message", (message: Buffer, remote: RemoteInfo) => {
    let query: Packet;
    try {
      query = dnsPacket.decode(message);
    } catch {
      return;
    }
    const question = query.questions?.[0];
    if (!question) return;
    queries.push(`${question.type} ${key(question.name)}`);
    const result = answersFor(question.name, question.type);
    if (result === "drop") return;
    const response = dnsPacket.encode({
      type: "response",
      id: query.id ?? 0,
      flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | result.rcode,
      questions: [question],
      answers: result.answers,
    });
    socket.send(response, remote.port, remote.address);
  });

  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const port = socket.address().port;

  function entry(name: string): Entry {
    const existing = zone.get(key(name));
    if (existing) return existing;
    const created: Entry = { records: {} };
    zone.set(key(name), created);
    return created;
  }

  return {
    address: `127.0.0.1:${port}`,
    set(name, type, values) {
      const target = entry(name);
      delete target.behaviour;
      target.records[type] = values;
    },
    remove(name) {
      zone.delete(key(name));
    },
    fail(name, behaviour) {
      entry(name).behaviour = behaviour;
    },
    queries,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
