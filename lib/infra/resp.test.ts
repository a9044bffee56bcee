import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  connectRedis,
  encodeCommand,
  parseReply,
  RedisConnectionError,
  RedisReplyError,
  type RedisValue,
  redisAclPasswordHash,
} from "./resp";

function parse(text: string | Buffer): RedisValue {
  const parsed = parseReply(Buffer.isBuffer(text) ? text : Buffer.from(text));
  if (parsed === undefined) throw new Error("incomplete");
  return parsed.value;
}

function protocolError(text: string): RedisConnectionError {
  try {
    parseReply(Buffer.from(text));
  } catch (err) {
    if (err instanceof RedisConnectionError) return err;
    throw err;
  }
  throw new Error("expected a protocol error");
}

describe("encodeCommand", () => {
  it("sends every argument as a bulk string, never inline", () => {
    expect(encodeCommand(["SET", "k", "v"]).toString()).toBe("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n");
  });

  it("counts bytes, not characters, and keeps CRLF and spaces inside arguments intact", () => {
    expect(encodeCommand(["SET", "a b\r\nFLUSHALL", "å"]).toString()).toBe(
      "*3\r\n$3\r\nSET\r\n$13\r\na b\r\nFLUSHALL\r\n$2\r\nå\r\n",
    );
  });

  it("encodes numbers and buffers", () => {
    expect(encodeCommand(["EXPIRE", "k", 10, Buffer.from([0, 255])])).toEqual(
      Buffer.concat([
        Buffer.from("*4\r\n$6\r\nEXPIRE\r\n$1\r\nk\r\n$2\r\n10\r\n$2\r\n"),
        Buffer.from([0, 255, 13, 10]),
      ]),
    );
  });

  it("refuses empty commands and non-finite numbers", () => {
    expect(() => encodeCommand([])).toThrow(RangeError);
    expect(() => encodeCommand(["INCRBY", "k", Number.NaN])).toThrow(RangeError);
  });
});

describe("parseReply", () => {
  it("parses simple strings, errors and integers", () => {
    expect(parse("+OK\r\n")).toBe("OK");
    expect(parse(":42\r\n")).toBe(42);
    expect(parse(":-7\r\n")).toBe(-7);
    expect(parse(":9007199254740993\r\n")).toBe(9007199254740993n);
    const error = parse("-NOPERM this user has no permissions to run the 'keys' command\r\n");
    expect(error).toBeInstanceOf(RedisReplyError);
    expect(error).toMatchObject({
      code: "NOPERM",
      message: "NOPERM this user has no permissions to run the 'keys' command",
    });
  });

  it("takes the error code from the first word, ERR when there is none", () => {
    expect(new RedisReplyError("WRONGPASS invalid username-password pair").code).toBe("WRONGPASS");
    expect(new RedisReplyError("LOADING Redis is loading the dataset in memory").code).toBe("LOADING");
    expect(new RedisReplyError("something odd").code).toBe("ERR");
  });

  it("parses bulk strings, including empty, binary-safe CRLF content and null", () => {
    expect(parse("$5\r\nhello\r\n")).toBe("hello");
    expect(parse("$0\r\n\r\n")).toBe("");
    expect(parse("$4\r\na\r\nb\r\n")).toBe("a\r\nb");
    expect(parse("$2\r\nå\r\n")).toBe("å");
    expect(parse("$-1\r\n")).toBeNull();
  });

  it("parses arrays, nested arrays, null arrays and errors inside arrays", () => {
    expect(parse("*0\r\n")).toEqual([]);
    expect(parse("*-1\r\n")).toBeNull();
    expect(parse("*3\r\n$1\r\na\r\n:1\r\n*2\r\n+x\r\n$-1\r\n")).toEqual(["a", 1, ["x", null]]);
    const value = parse("*2\r\n+OK\r\n-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    expect(Array.isArray(value)).toBe(true);
    expect(Array.isArray(value) && value[1]).toBeInstanceOf(RedisReplyError);
  });

  it("reports where the reply ends, so several replies can share a buffer", () => {
    const buffer = Buffer.from("+OK\r\n:5\r\n$1\r\nx\r\n");
    expect(parseReply(buffer, 0)).toEqual({ value: "OK", next: 5 });
    expect(parseReply(buffer, 5)).toEqual({ value: 5, next: 9 });
    expect(parseReply(buffer, 9)).toEqual({ value: "x", next: 16 });
  });

  it("answers undefined for every incomplete prefix of a reply", () => {
    const full = Buffer.from("*3\r\n$5\r\nhello\r\n:1\r\n*1\r\n-ERR x\r\n");
    for (let length = 0; length < full.length; length++) {
      expect(parseReply(full.subarray(0, length))).toBeUndefined();
    }
    expect(parseReply(full)?.next).toBe(full.length);
  });

  it("rejects what is not RESP2", () => {
    expect(protocolError("?what\r\n").kind).toBe("protocol");
    expect(protocolError(":12a\r\n").message).toMatch(/integer/);
    expect(protocolError("$abc\r\n").message).toMatch(/length/);
    expect(protocolError("$-2\r\n").message).toMatch(/negative/);
    expect(protocolError("*-5\r\n").message).toMatch(/negative/);
    expect(protocolError("$3\r\nabcXY").message).toMatch(/CRLF/);
    expect(protocolError(`${"*1\r\n".repeat(100)}+deep\r\n`).message).toMatch(/nested/);
    expect(protocolError("%1\r\n").retryable).toBe(false);
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

  it("refuses replies above maxReplyBytes", async () => {
    const fake = await fakeRedis((socket) => socket.write(`$100000\r\n${"x".repeat(5000)}`));
    const connection = await connectRedis({ port: fake.port, maxReplyBytes: 1024 });
    expect(await rejection(connection.command(["GET", "big"]))).toMatchObject({ kind: "protocol" });
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

  it("delivers pub/sub messages to listeners and keeps replies for commands", async () => {
    const fake = await fakeRedis((socket, data) => {
      if (data.includes("SUBSCRIBE")) {
        socket.write("*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n");
        socket.write("*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhello\r\n");
        socket.write("*4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n$2\r\nhi\r\n");
      } else {
        socket.write("*2\r\n$4\r\npong\r\n$0\r\n\r\n");
      }
    });
    const connection = await connectRedis({ port: fake.port });
    const messages: unknown[] = [];
    connection.onMessage((message) => messages.push(message));
    expect(await connection.command(["SUBSCRIBE", "ch"])).toEqual(["subscribe", "ch", 1]);
    expect(await connection.command(["PING"])).toEqual(["pong", ""]);
    expect(messages).toEqual([
      { channel: "ch", pattern: null, message: "hello", sharded: false },
      { channel: "ch", pattern: "c*", message: "hi", sharded: false },
    ]);
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
