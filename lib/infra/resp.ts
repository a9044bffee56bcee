import { createHash } from "node:crypto";
import { connect as netConnect, type Socket } from "node:net";
import { InfraError } from "./errors";

// A minimal RESP2 client for the platform's own administration of Redis (tenant ACL users, readiness checks). It is
// deliberately small: one socket, commands always sent as arrays of bulk strings (never inline commands, so no
// argument can be split or reinterpreted by the server's inline parser), replies matched to commands in order, a
// timeout on everything, and typed errors. Bulk strings are decoded as UTF-8: this client is not meant for binary
// values.

// ---------------------------------------------------------------------------------------------------------------
// Types and errors

export type RedisArg = string | number | Buffer;

// Integers outside Number's safe range come back as bigint rather than silently losing precision. Error replies
// nested inside arrays (EXEC) are values; a top-level error reply rejects the command instead.
export type RedisValue = string | number | bigint | null | RedisReplyError | RedisValue[];

export type RedisConnectOptions = {
  host?: string;
  port?: number;
  // A unix socket path; when set, host and port are ignored.
  path?: string;
  user?: string;
  password?: string;
  connectTimeoutMs?: number;
  // Default timeout of each command; a command can override it.
  commandTimeoutMs?: number;
  // Cap on the bytes buffered for one reply, so a runaway reply cannot exhaust the platform's memory.
  maxReplyBytes?: number;
};

export type RedisPubSubMessage = { channel: string; pattern: string | null; message: string; sharded: boolean };

// An error reply from the server. `code` is its first word (ERR, NOPERM, WRONGPASS, WRONGTYPE, LOADING ...), which
// is what callers branch on; the message is the server's text and may echo command arguments. Whether a reply is
// worth a retry depends on the command, so the callers (tenant-redis) decide; here it is not retryable.
export class RedisReplyError extends InfraError<"reply"> {
  readonly code: string;

  constructor(text: string) {
    super("reply", text);
    this.name = "RedisReplyError";
    this.code = /^([A-Z][A-Z0-9_-]*)(?:\s|$)/.exec(text)?.[1] ?? "ERR";
  }
}

export type RedisConnectionErrorKind = "connect" | "timeout" | "closed" | "protocol";

// The connection itself failed: the server was unreachable, too slow, went away, or spoke something that is not
// RESP2. Messages name the endpoint at most, never credentials or command arguments.
export class RedisConnectionError extends InfraError<RedisConnectionErrorKind> {
  constructor(kind: RedisConnectionErrorKind, message: string, options: { cause?: unknown } = {}) {
    // A protocol error means a bug or something that is not Redis on the other end; retrying will not help.
    super(kind, message, { cause: options.cause, retryable: kind !== "protocol" });
    this.name = "RedisConnectionError";
  }
}

class IncompleteReply extends Error {}

// ---------------------------------------------------------------------------------------------------------------
// Encoding and parsing (pure, exported for tests)

// Redis's own limit for a bulk string (proto-max-bulk-len).
const MAX_BULK_BYTES = 512 * 1024 * 1024;
// Deep enough for every real reply (XINFO FULL nests about five levels), shallow enough that a hostile stream cannot
// exhaust the stack.
const MAX_DEPTH = 64;
const CRLF = Buffer.from("\r\n");

export function encodeCommand(args: readonly RedisArg[]): Buffer {
  if (args.length === 0) throw new RangeError("a Redis command needs at least one argument");
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    let data: Buffer;
    if (Buffer.isBuffer(arg)) {
      data = arg;
    } else if (typeof arg === "number") {
      if (!Number.isFinite(arg)) throw new RangeError("a Redis argument must be a finite number");
      data = Buffer.from(String(arg));
    } else {
      data = Buffer.from(arg, "utf8");
    }
    parts.push(Buffer.from(`$${data.length}\r\n`), data, CRLF);
  }
  return Buffer.concat(parts);
}

function protocolError(what: string): RedisConnectionError {
  return new RedisConnectionError("protocol", `invalid RESP2 reply: ${what}`);
}

function readLine(buffer: Buffer, start: number): { line: string; next: number } {
  const end = buffer.indexOf(CRLF, start);
  if (end === -1) throw new IncompleteReply();
  return { line: buffer.toString("utf8", start, end), next: end + 2 };
}

function readLength(line: string, what: string): number {
  if (!/^-?[0-9]{1,12}$/.test(line)) throw protocolError(`bad ${what} length`);
  const length = Number(line);
  if (length < -1) throw protocolError(`negative ${what} length`);
  return length;
}

function parseAt(buffer: Buffer, start: number, depth: number): { value: RedisValue; next: number } {
  if (depth > MAX_DEPTH) throw protocolError("nested too deeply");
  if (start >= buffer.length) throw new IncompleteReply();
  const type = String.fromCharCode(buffer[start] ?? 0);
  const { line, next } = readLine(buffer, start + 1);
  switch (type) {
    case "+":
      return { value: line, next };
    case "-":
      return { value: new RedisReplyError(line), next };
    case ":": {
      if (!/^-?[0-9]{1,20}$/.test(line)) throw protocolError("bad integer");
      const big = BigInt(line);
      const small = Number(line);
      return { value: Number.isSafeInteger(small) ? small : big, next };
    }
    case "$": {
      const length = readLength(line, "bulk string");
      if (length === -1) return { value: null, next };
      if (length > MAX_BULK_BYTES) throw protocolError("bulk string too long");
      const end = next + length;
      if (buffer.length < end + 2) throw new IncompleteReply();
      if (buffer[end] !== 0x0d || buffer[end + 1] !== 0x0a) throw protocolError("bulk string not terminated by CRLF");
      return { value: buffer.toString("utf8", next, end), next: end + 2 };
    }
    case "*": {
      const count = readLength(line, "array");
      if (count === -1) return { value: null, next };
      const items: RedisValue[] = [];
      let position = next;
      for (let i = 0; i < count; i++) {
        const item = parseAt(buffer, position, depth + 1);
        items.push(item.value);
        position = item.next;
      }
      return { value: items, next: position };
    }
    default:
      throw protocolError("unknown reply type");
  }
}

// Parses one complete reply starting at `start`. Returns undefined when the buffer holds only part of it (more data
// is needed) and throws a RedisConnectionError of kind "protocol" when the bytes are not RESP2.
export function parseReply(buffer: Buffer, start = 0): { value: RedisValue; next: number } | undefined {
  try {
    return parseAt(buffer, start, 0);
  } catch (err) {
    if (err instanceof IncompleteReply) return undefined;
    throw err;
  }
}

// The `#<hex>` form of an ACL password: Redis stores and compares the SHA-256 of the password, so handing it the
// hash means the cleartext is never sent over the wire, logged by the server or written to the ACL file.
export function redisAclPasswordHash(password: string): string {
  return createHash("sha256").update(password, "utf8").digest("hex");
}

// ---------------------------------------------------------------------------------------------------------------
// Connection

const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_COMMAND_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_REPLY_BYTES = 64 * 1024 * 1024;
const EMPTY = Buffer.alloc(0);
// setTimeout fires at once for delays above 2^31-1 ms.
const MAX_TIMER_MS = 2_147_483_647;

// In RESP2 the replies to (un)subscribe commands arrive one per channel. The client matches one reply per command,
// so these commands must name exactly one channel or pattern.
const SUBSCRIPTION_COMMANDS = new Set([
  "subscribe",
  "psubscribe",
  "ssubscribe",
  "unsubscribe",
  "punsubscribe",
  "sunsubscribe",
]);
const PUSH_KINDS = new Set(["message", "pmessage", "smessage"]);

type Pending = {
  resolve: (value: RedisValue) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout | undefined;
};

function timeoutValue(value: number | undefined, fallback: number, name: string): number {
  const ms = value ?? fallback;
  if (!Number.isFinite(ms) || ms <= 0 || ms > MAX_TIMER_MS) throw new RangeError(`${name} must be a positive number`);
  return Math.ceil(ms);
}

function endpoint(options: RedisConnectOptions): string {
  return options.path ?? `${options.host ?? "127.0.0.1"}:${options.port ?? 6379}`;
}

export class RedisConnection {
  // Resolves when the socket is gone, whoever closed it; the error says why unless close() was called.
  readonly closed: Promise<RedisConnectionError | null>;
  private buffer: Buffer = EMPTY;
  private readonly pending: Pending[] = [];
  private readonly listeners = new Set<(message: RedisPubSubMessage) => void>();
  private failure: RedisConnectionError | null = null;
  private subscribed = false;
  private resolveClosed: (reason: RedisConnectionError | null) => void = () => {};

  constructor(
    private readonly socket: Socket,
    private readonly commandTimeoutMs: number,
    private readonly maxReplyBytes: number,
  ) {
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (cause) => this.fail(new RedisConnectionError("closed", "Redis connection failed", { cause })));
    socket.on("close", () => {
      this.fail(new RedisConnectionError("closed", "Redis connection closed"));
      this.resolveClosed(this.failure);
    });
  }

  get isClosed(): boolean {
    return this.failure !== null;
  }

  command(args: readonly RedisArg[], options: { timeoutMs?: number } = {}): Promise<RedisValue> {
    if (this.failure !== null) return Promise.reject(this.failure);
    let payload: Buffer;
    let timeoutMs: number;
    try {
      const name = typeof args[0] === "string" ? args[0].toLowerCase() : "";
      if (SUBSCRIPTION_COMMANDS.has(name) && args.length !== 2) {
        throw new RangeError(`${name} must name exactly one channel or pattern per call`);
      }
      payload = encodeCommand(args);
      timeoutMs = timeoutValue(options.timeoutMs, this.commandTimeoutMs, "timeoutMs");
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<RedisValue>((resolve, reject) => {
      const entry: Pending = { resolve, reject, timer: undefined };
      // A reply that is late poisons the connection: the next reply could belong to this command, so the only safe
      // answer is to drop the connection and fail everything in flight.
      entry.timer = setTimeout(
        () => this.fail(new RedisConnectionError("timeout", `Redis command timed out after ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.pending.push(entry);
      this.socket.write(payload);
    });
  }

  // Messages of channels this connection subscribed to. Returns a function that removes the listener.
  onMessage(listener: (message: RedisPubSubMessage) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  async close(): Promise<void> {
    if (this.failure === null) {
      this.failure = new RedisConnectionError("closed", "Redis connection closed by the client");
      this.rejectPending(this.failure);
      this.socket.destroy();
      // Closed on purpose: `closed` reports no error.
      this.resolveClosed(null);
    }
    await this.closed;
  }

  private onData(chunk: Buffer): void {
    if (this.failure !== null) return;
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    let offset = 0;
    while (offset < this.buffer.length) {
      let parsed: { value: RedisValue; next: number } | undefined;
      try {
        parsed = parseReply(this.buffer, offset);
      } catch (err) {
        this.fail(err instanceof RedisConnectionError ? err : protocolError("unparsable reply"));
        return;
      }
      if (parsed === undefined) break;
      offset = parsed.next;
      this.dispatch(parsed.value);
      if (this.failure !== null) return;
    }
    this.buffer = offset >= this.buffer.length ? EMPTY : this.buffer.subarray(offset);
    if (this.buffer.length > this.maxReplyBytes) {
      this.fail(new RedisConnectionError("protocol", `Redis reply larger than ${this.maxReplyBytes} bytes`));
    }
  }

  private dispatch(value: RedisValue): void {
    if (this.subscribed && Array.isArray(value) && typeof value[0] === "string" && PUSH_KINDS.has(value[0])) {
      this.emit(value);
      return;
    }
    const entry = this.pending.shift();
    if (entry === undefined) {
      this.fail(protocolError("reply without a command"));
      return;
    }
    clearTimeout(entry.timer);
    this.trackSubscription(value);
    if (value instanceof RedisReplyError) entry.reject(value);
    else entry.resolve(value);
  }

  // Replies to (un)subscribe carry the number of subscriptions left; while it is above zero, arrays that start with
  // "message" are pushes, not replies.
  private trackSubscription(value: RedisValue): void {
    if (value === "RESET") {
      this.subscribed = false;
      return;
    }
    if (!Array.isArray(value) || value.length !== 3) return;
    const [kind, , count] = value;
    if (typeof kind !== "string" || typeof count !== "number") return;
    if (SUBSCRIPTION_COMMANDS.has(kind)) this.subscribed = count > 0;
  }

  private emit(value: RedisValue[]): void {
    const [kind] = value;
    const pattern = kind === "pmessage" ? value[1] : null;
    const [channel, message] = kind === "pmessage" ? value.slice(2) : value.slice(1);
    if (typeof channel !== "string" || typeof message !== "string") return;
    const event: RedisPubSubMessage = {
      channel,
      pattern: typeof pattern === "string" ? pattern : null,
      message,
      sharded: kind === "smessage",
    };
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A throwing listener must not break the connection for everyone else.
      }
    }
  }

  private fail(err: RedisConnectionError): void {
    if (this.failure !== null) return;
    this.failure = err;
    this.buffer = EMPTY;
    this.rejectPending(err);
    this.socket.destroy();
  }

  private rejectPending(err: Error): void {
    for (const entry of this.pending.splice(0)) {
      clearTimeout(entry.timer);
      entry.reject(err);
    }
  }
}

// Opens a connection and authenticates it. AUTH failures reject with the server's RedisReplyError (WRONGPASS), with
// the connection already closed.
export async function connectRedis(options: RedisConnectOptions): Promise<RedisConnection> {
  const connectTimeoutMs = timeoutValue(options.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS, "connectTimeoutMs");
  const commandTimeoutMs = timeoutValue(options.commandTimeoutMs, DEFAULT_COMMAND_TIMEOUT_MS, "commandTimeoutMs");
  const maxReplyBytes = options.maxReplyBytes ?? DEFAULT_MAX_REPLY_BYTES;
  if (!Number.isSafeInteger(maxReplyBytes) || maxReplyBytes <= 0) {
    throw new RangeError("maxReplyBytes must be a positive integer");
  }
  if (options.user !== undefined && options.password === undefined) {
    throw new RangeError("a Redis user needs a password");
  }
  const where = endpoint(options);

  const connection = await new Promise<RedisConnection>((resolve, reject) => {
    const socket =
      options.path !== undefined
        ? netConnect({ path: options.path })
        : netConnect({ host: options.host ?? "127.0.0.1", port: options.port ?? 6379 });
    const onError = (cause: NodeJS.ErrnoException): void => {
      clearTimeout(timer);
      socket.destroy();
      const message = `could not connect to Redis at ${where} (${cause.code ?? "error"})`;
      reject(new RedisConnectionError("connect", message, { cause }));
    };
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new RedisConnectionError("timeout", `connecting to Redis at ${where} timed out after ${connectTimeoutMs} ms`),
      );
    }, connectTimeoutMs);
    socket.once("error", onError);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.off("error", onError);
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 30_000);
      // Attached in the same tick as the connect handler, so no socket error can go unhandled in between.
      resolve(new RedisConnection(socket, commandTimeoutMs, maxReplyBytes));
    });
  });

  if (options.password !== undefined) {
    const auth = options.user === undefined ? ["AUTH", options.password] : ["AUTH", options.user, options.password];
    try {
      await connection.command(auth, { timeoutMs: connectTimeoutMs });
    } catch (err) {
      await connection.close();
      throw err;
    }
  }
  return connection;
}

// Runs `fn` on a fresh connection and always closes it afterwards.
export async function withRedis<T>(
  options: RedisConnectOptions,
  fn: (connection: RedisConnection) => Promise<T>,
): Promise<T> {
  const connection = await connectRedis(options);
  try {
    return await fn(connection);
  } finally {
    await connection.close();
  }
}
