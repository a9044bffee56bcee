// The web server decides the client's address from the connection, never from what the client claims: the pure
// rules, the launch command, and one real HTTP round trip through the server wrapper (with a stub in place of Next).
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { CLIENT_IP_HEADER, clientIpFrom } from "@/lib/auth/request-meta";
import { clientAddress, createWebServer, rewriteClientHeaders, webServerArgs } from "@/lib/services/web-server";

describe("clientAddress", () => {
  it("with no trusted proxy, is the peer whatever X-Forwarded-For claims", () => {
    expect(clientAddress({ forwardedFor: "1.2.3.4", peer: "198.51.100.7", trustedProxies: 0 })).toBe("198.51.100.7");
    expect(clientAddress({ forwardedFor: undefined, peer: "::ffff:198.51.100.7", trustedProxies: 0 })).toBe(
      "198.51.100.7",
    );
    expect(clientAddress({ forwardedFor: undefined, peer: "2001:db8::1", trustedProxies: 0 })).toBe("2001:db8::1");
  });

  it("is null (unknown) without a peer address", () => {
    expect(clientAddress({ forwardedFor: "1.2.3.4", peer: undefined, trustedProxies: 0 })).toBeNull();
    expect(clientAddress({ forwardedFor: "1.2.3.4", peer: undefined, trustedProxies: 1 })).toBeNull();
  });

  it("behind n proxies, takes the address the outermost trusted proxy saw, not what the client prepended", () => {
    // The client sent "6.6.6.6"; Caddy appended the address it saw (203.0.113.5) and connected from 10.0.0.2.
    expect(clientAddress({ forwardedFor: "6.6.6.6, 203.0.113.5", peer: "10.0.0.2", trustedProxies: 1 })).toBe(
      "203.0.113.5",
    );
    // Two proxies: the edge one saw 203.0.113.5, the inner one saw the edge (10.0.0.9) and connected from 10.0.0.2.
    expect(
      clientAddress({ forwardedFor: ["6.6.6.6, 203.0.113.5", "10.0.0.9"], peer: "10.0.0.2", trustedProxies: 2 }),
    ).toBe("203.0.113.5");
  });

  it("behind n proxies, a request with fewer hops did not come through them: only the peer is known", () => {
    expect(clientAddress({ forwardedFor: undefined, peer: "198.51.100.7", trustedProxies: 1 })).toBe("198.51.100.7");
    expect(clientAddress({ forwardedFor: "6.6.6.6", peer: "198.51.100.7", trustedProxies: 2 })).toBe("198.51.100.7");
  });

  it("refuses an entry that is not an address", () => {
    expect(clientAddress({ forwardedFor: "<script>", peer: "10.0.0.2", trustedProxies: 1 })).toBeNull();
  });
});

describe("rewriteClientHeaders", () => {
  it("overwrites X-Forwarded-For and the platform's own header, dropping what the client sent", () => {
    const headers: Record<string, string | string[] | undefined> = {
      "x-forwarded-for": "6.6.6.6",
      [CLIENT_IP_HEADER]: "6.6.6.6",
    };
    rewriteClientHeaders(headers, "198.51.100.7", 0);
    expect(headers["x-forwarded-for"]).toBe("198.51.100.7");
    expect(headers[CLIENT_IP_HEADER]).toBe("198.51.100.7");
  });

  it("removes both when the address is unknown", () => {
    const headers: Record<string, string | string[] | undefined> = {
      "x-forwarded-for": "6.6.6.6",
      [CLIENT_IP_HEADER]: "6.6.6.6",
    };
    rewriteClientHeaders(headers, undefined, 0);
    expect(headers["x-forwarded-for"]).toBeUndefined();
    expect(headers[CLIENT_IP_HEADER]).toBeUndefined();
  });
});

describe("clientIpFrom", () => {
  it("reads only the platform's header: a client's X-Forwarded-For alone gives no address", () => {
    expect(clientIpFrom(new Headers({ "x-forwarded-for": "6.6.6.6" }))).toBeNull();
    expect(clientIpFrom(new Headers({ [CLIENT_IP_HEADER]: "198.51.100.7" }))).toBe("198.51.100.7");
    expect(clientIpFrom(new Headers({ [CLIENT_IP_HEADER]: "not an ip" }))).toBeNull();
  });
});

describe("webServerArgs", () => {
  it("runs the custom server with tsx, in production or development mode", () => {
    expect(webServerArgs({ dev: false })).toEqual(["--import", "tsx", "scripts/web-server.ts"]);
    expect(webServerArgs({ dev: true })).toEqual(["--import", "tsx", "scripts/web-server.ts", "--dev"]);
  });
});

describe("createWebServer", () => {
  it("hands the handler the peer address over a real connection, whatever the client claimed", async () => {
    const seen: Record<string, string | string[] | undefined>[] = [];
    const server = createWebServer((request, response) => {
      seen.push({ ...request.headers });
      response.end("ok");
    }, 0);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const response = await fetch(`http://127.0.0.1:${port}/`, {
        headers: { "x-forwarded-for": "6.6.6.6", [CLIENT_IP_HEADER]: "6.6.6.6" },
      });
      expect(await response.text()).toBe("ok");
      expect(seen[0]?.["x-forwarded-for"]).toBe("127.0.0.1");
      expect(seen[0]?.[CLIENT_IP_HEADER]).toBe("127.0.0.1");
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("malformed request paths", () => {
  it("answers a path that is not valid percent-encoded UTF-8 itself: JSON 404 under /api/, 400 elsewhere", async () => {
    const reached: string[] = [];
    const server = createWebServer((request, response) => {
      reached.push(request.url ?? "");
      response.end("ok");
    }, 0);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const base = `http://127.0.0.1:${port}`;
      // A lone UTF-16 surrogate encoded as UTF-8, an overlong form and a truncated escape: Next's own decoding of
      // route parameters throws on these and answers a plain-text 500.
      for (const id of ["%ED%A0%80", "%C0%AF", "%E2%82", "abc%zz"]) {
        const api = await fetch(`${base}/api/v1/apps/${id}`);
        expect(api.status).toBe(404);
        expect(api.headers.get("content-type")).toMatch(/^application\/json/);
        const body = (await api.json()) as { error: { code: string; requestId: string } };
        expect(body.error.code).toBe("not_found");
        expect(body.error.requestId).toMatch(/^[0-9a-f-]{36}$/);
        const page = await fetch(`${base}/teams/${id}`);
        expect(page.status).toBe(400);
      }
      // Well-formed escapes (and query strings, which route handlers validate themselves) still reach the handler.
      const fine = await fetch(`${base}/api/v1/apps/caf%C3%A9?q=%ED%A0%80`);
      expect(await fine.text()).toBe("ok");
      expect(reached).toEqual(["/api/v1/apps/caf%C3%A9?q=%ED%A0%80"]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
