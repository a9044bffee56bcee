import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorReply } from "@redis/client";
import { afterEach, describe, expect, it } from "vitest";
import {
  commandArguments,
  connectRedis,
  RedisConnectionError,
  RedisReplyError,
  redisAclPasswordHash,
  toRedisValue,
} from "./resp";

describe("commandArguments", () => {
  it("keeps strings and buffers as they are and sends numbers as their decimal text", () => {
    const buffer = Buffer.from([0, 255]);
    expect(commandArguments(["SET", "k\r\n*1 x", buffer, 42, -1.5])).toEqual([
      "SET",
      "k\r\n*1 x",
      buffer,
      "42",
      "-1.5",
    ]);
  });

  it("refuses empty commands and non-finite numbers", () => {
    expect(() => commandArguments([])).toThrow(RangeError);
    expect(() => commandArguments(["SET", "k", Number.NaN])).toThrow(RangeError);
    expect(() => commandArguments(["SET", "k", Number.POSITIVE_INFINITY])).toThrow(RangeError);
  });
});

describe("toRedisValue", () => {
  it("keeps strings, numbers, null and arrays, and turns nested error replies into RedisReplyError", () => {
    const value = toRedisValue([
      "OK",
      3,
      null,
      [new ErrorReply("WRONGTYPE Operation against a key")],
      Buffer.from("b"),
    ]);
    expect(value).toEqual(["OK", 3, null, [expect.any(RedisReplyError)], "b"]);
    const nested = Array.isArray(value) && Array.isArray(value[3]) ? value[3][0] : undefined;
    expect(nested).toMatchObject({ code: "WRONGTYPE", retryable: false });
  });

  it("takes the error code from the first word, ERR when there is none", () => {
    expect(new RedisReplyError("NOPERM no permissions").code).toBe("NOPERM");
    expect(new RedisReplyError("something odd").code).toBe("ERR");
  });

  it("refuses what RESP2 cannot carry", () => {
    expect(() => toRedisValue({ a: 1 })).toThrow(RedisConnectionError);
  });
});

describe("redisAclPasswordHash", () => {
  it("is the SHA-256 hex Redis compares with", () => {
    expect(redisAclPasswordHash("foobar")).toBe("c3ab8ff13720e8ad9047dd39466b3c8974e592c2fa383d4a3960714caef0c4f2");
  });
});

// A scripted fake Redis: records what it receives and answers with canned bytes.
type Fake = { port: number; received: Buffer[]; sockets: Socket[]; server: Server };
const fakes: Fake[] = [];

async function fakeRedis(onData: (socket: Socket, data: Buffer) => void): Promise<Fake> {
  const received: Buffer[] = [];
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on("error", () => {});
    socket.on("data", (data) => {
      received.push(data);
      onData(socket, data);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  const fake = { port: address.port, received, sockets, server };
  fakes.push(fake);
  return fake;
}

afterEach(async () => {
  for (const fake of fakes.splice(0)) {
    for (const socket of fake.sockets) socket.destroy();
    await new Promise<void>((resolve) => fake.server.close(() => resolve()));
  }
});

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error("expected a rejection");
}

describe("RedisConnection", () => {
  it("matches replies to commands in order, even when they arrive byte by byte", async () => {
    const fake = await fakeRedis((socket, data) => {
      const reply = data.includes("GET") ? "$5\r\nvalue\r\n" : "+PONG\r\n";
      for (const byte of Buffer.from(reply)) socket.write(Buffer.from([byte]));
    });
    const connection = await connectRedis({ port: fake.port });
    expect(await connection.command(["PING"])).toBe("PONG");
    expect(await connection.command(["GET", "k"])).toBe("value");
    await connection.close();
    expect(await connection.closed).toBeNull();
  });

  it("authenticates with AUTH user password as an array, and surfaces WRONGPASS with the connection closed", async () => {
    const fake = await fakeRedis((socket) => {
      socket.write("-WRONGPASS invalid username-password pair or user is disabled.\r\n");
    });
    const err = await rejection(connectRedis({ port: fake.port, user: "alice", password: "s3cret pass" }));
    expect(err).toBeInstanceOf(RedisReplyError);
    expect(err).toMatchObject({ code: "WRONGPASS" });
    expect(String(err)).not.toContain("s3cret");
    expect(Buffer.concat(fake.received).toString()).toBe("*3\r\n$4\r\nAUTH\r\n$5\r\nalice\r\n$11\r\ns3cret pass\r\n");
  });

  it("rejects a command with its error reply and keeps the connection usable", async () => {
    const fake = await fakeRedis((socket, data) => {
      socket.write(data.includes("KEYS") ? "-NOPERM no permissions to run the 'keys' command\r\n" : "+OK\r\n");
    });
    const connection = await connectRedis({ port: fake.port });
    const err = await rejection(connection.command(["KEYS", "*"]));
    expect(err).toMatchObject({ name: "RedisReplyError", code: "NOPERM" });
    expect(await connection.command(["SET", "k", "v"])).toBe("OK");
    await connection.close();
  });

  it("drops the connection when a reply is late, failing every command in flight", async () => {
    const fake = await fakeRedis(() => {});
    const connection = await connectRedis({ port: fake.port, commandTimeoutMs: 50 });
    const first = rejection(connection.command(["BLPOP", "k", "0"]));
    const second = rejection(connection.command(["PING"]));
    expect(await first).toMatchObject({ kind: "timeout", retryable: true });
    expect(await second).toMatchObject({ kind: "timeout" });
    expect(connection.isClosed).toBe(true);
    expect(await rejection(connection.command(["PING"]))).toMatchObject({ kind: "timeout" });
  });

  it("fails pending commands when the server closes the connection", async () => {
    const fake = await fakeRedis((socket) => socket.destroy());
    const connection = await connectRedis({ port: fake.port });
    const err = await rejection(connection.command(["PING"]));
    expect(err).toBeInstanceOf(RedisConnectionError);
    expect(err).toMatchObject({ kind: "closed", retryable: true });
    expect(await connection.closed).toMatchObject({ kind: "closed" });
    // No reconnection and no offline queue: the next command fails at once, and no new connection was opened.
    expect(await rejection(connection.command(["PING"]))).toMatchObject({ kind: "closed" });
    expect(fake.sockets).toHaveLength(1);
  });

  it("treats garbage and unsolicited replies as protocol errors", async () => {
    const garbage = await fakeRedis((socket) => socket.write("HTTP/1.1 400 Bad Request\r\n\r\n"));
    const first = await connectRedis({ port: garbage.port });
    expect(await rejection(first.command(["PING"]))).toMatchObject({ kind: "protocol", retryable: false });

    const chatty = await fakeRedis((socket) => socket.write("+OK\r\n+EXTRA\r\n"));
    const second = await connectRedis({ port: chatty.port });
    await second.command(["PING"]).catch(() => undefined);
    expect(await second.closed).toMatchObject({ kind: "protocol" });
  });

  it("reports an unreachable server as a retryable connect error", async () => {
    const fake = await fakeRedis(() => {});
    const port = fake.port;
    await new Promise<void>((resolve) => fake.server.close(() => resolve()));
    fakes.splice(fakes.indexOf(fake), 1);
    const err = await rejection(connectRedis({ port, password: "topsecret" }));
    expect(err).toMatchObject({ name: "RedisConnectionError", kind: "connect", retryable: true });
    expect(String(err)).toContain(`127.0.0.1:${port}`);
    expect(String(err)).not.toContain("topsecret");
  });

  it("delivers pub/sub messages to listeners and answers (un)subscribe as Redis does", async () => {
    const fake = await fakeRedis((socket, data) => {
      const text = data.toString().toLowerCase();
      if (text.includes("psubscribe")) {
        socket.write("*3\r\n$10\r\npsubscribe\r\n$2\r\nc*\r\n:2\r\n");
        socket.write("*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhello\r\n");
        socket.write("*4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n$2\r\nhi\r\n");
      } else if (text.includes("unsubscribe")) {
        socket.write("*3\r\n$11\r\nunsubscribe\r\n$2\r\nch\r\n:1\r\n");
      } else if (text.includes("subscribe")) {
        socket.write("*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n");
      } else {
        socket.write("*2\r\n$4\r\npong\r\n$0\r\n\r\n");
      }
    });
    const connection = await connectRedis({ port: fake.port });
    const messages: unknown[] = [];
    connection.onMessage((message) => messages.push(message));
    expect(await connection.command(["SUBSCRIBE", "ch"])).toEqual(["subscribe", "ch", 1]);
    expect(await connection.command(["PSUBSCRIBE", "c*"])).toEqual(["psubscribe", "c*", 2]);
    // node-redis answers a PING on a subscribed connection with the "pong" of the reply ["pong", ""].
    expect(await connection.command(["PING"])).toBe("pong");
    await expect
      .poll(() => messages)
      .toEqual([
        { channel: "ch", pattern: null, message: "hello", sharded: false },
        { channel: "ch", pattern: "c*", message: "hi", sharded: false },
      ]);
    expect(await connection.command(["UNSUBSCRIBE", "ch"])).toEqual(["unsubscribe", "ch", 1]);
    await connection.close();
  });

  it("requires exactly one channel per (un)subscribe, since replies come one per channel", async () => {
    const fake = await fakeRedis(() => {});
    const connection = await connectRedis({ port: fake.port });
    await expect(connection.command(["SUBSCRIBE", "a", "b"])).rejects.toThrow(RangeError);
    await expect(connection.command(["unsubscribe"])).rejects.toThrow(RangeError);
    expect(fake.received).toEqual([]);
    await connection.close();
  });

  it("connects over a unix socket", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tussilago-resp-"));
    const path = join(dir, "redis.sock");
    const server = createServer((socket) => socket.on("data", () => socket.write("+PONG\r\n")));
    await new Promise<void>((resolve) => server.listen(path, resolve));
    try {
      const connection = await connectRedis({ path });
      expect(await connection.command(["PING"])).toBe("PONG");
      await connection.close();
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses a user without a password and nonsensical timeouts", async () => {
    await expect(connectRedis({ port: 1, user: "alice" })).rejects.toThrow(RangeError);
    await expect(connectRedis({ port: 1, commandTimeoutMs: 0 })).rejects.toThrow(RangeError);
  });
});
