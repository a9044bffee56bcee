// The fake DNS server (test/fake-dns.ts) for the e2e platform, with a small HTTP API so that specs, which run in
// other processes than e2e/global-setup.ts, can create the records a user would: POST /records
// {"name", "type", "values"} replaces that name's records of that type. Loopback only; test use only.
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import { startFakeDns } from "../test/fake-dns";

const recordsBody = z.strictObject({
  name: z.string().min(1).max(253),
  type: z.enum(["A", "AAAA", "TXT", "CNAME"]),
  values: z.array(z.string().max(255)).max(16),
});

export type FakeDnsControl = {
  /** host:port, for TUSSILAGO_DNS_RESOLVERS. */
  dnsAddress: string;
  /** Base URL of the HTTP API. */
  url: string;
  close(): Promise<void>;
};

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > 16_384) throw new Error("body too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export async function startFakeDnsControl(): Promise<FakeDnsControl> {
  const dns = await startFakeDns();
  const server = createServer((request, response) => {
    if (request.method !== "POST" || request.url !== "/records") {
      response.writeHead(404).end();
      return;
    }
    readBody(request)
      .then((text) => {
        const parsed = recordsBody.safeParse(JSON.parse(text));
        if (!parsed.success) {
          response.writeHead(422).end();
          return;
        }
        dns.set(parsed.data.name, parsed.data.type, parsed.data.values);
        response.writeHead(204).end();
      })
      .catch(() => response.writeHead(400).end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    dnsAddress: dns.address,
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await dns.close();
    },
  };
}
