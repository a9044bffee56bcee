import { createHash } from "node:crypto";
import {
  ClientClosedError,
  ClientOfflineError,
  ConnectionTimeoutError,
  createClient,
  DisconnectsClientError,
  ErrorReply,
  RESP_TYPES,
  SocketClosedUnexpectedlyError,
  SocketTimeoutError,
  TimeoutError,
  TimeoutReadError,
} from "@redis/client";
import { InfraError } from "./errors";

// The platform's Redis connection for its own administration of Redis (tenant ACL users, quotas, readiness checks):
// a thin adapter over node-redis (@redis/client, the official client; issue #23 replaced a hand-written RESP2 client
// with it), which does the protocol: encoding, the reply parser, pub/sub bookkeeping. What this adapter adds is the
// platform's rules:
// - commands only as argument arrays (node-redis sends them as arrays of bulk strings, never inline, so no argument
//   can be split or reinterpreted by the server's inline parser);
// - a timeout on connecting (TCP and AUTH together) and on every command; a command whose reply is late drops the
//   connection, failing everything in flight (node-redis would keep it open and discard the late reply; here a
//   connection that stopped answering is not trusted with the next command);
// - no reconnection and no offline queue: a connection that went away stays gone and commands fail at once, so a job
//   never hangs on a retry loop it did not ask for; callers open a new connection (withRedis) when they want one;
// - typed errors: RedisReplyError (the server's error reply, with its code) and RedisConnectionError (connect,
//   timeout, closed, protocol), both InfraError; messages name the endpoint at most, never credentials.
// Limits of node-redis, accepted: replies are not capped in size (the old client refused one over 64 MiB). The
// largest replies the platform asks for are SCAN batches of one tenant's key names (deprovision), bounded by the
// batch size, proto-max-bulk-len and that tenant's memory quota on the platform's own Redis: a tenant can make a
// worker hold at most about what it may store. RESP2 integers beyond 2^53 lose precision (counts and byte sizes stay
// far below it). command() decodes bulk strings as UTF-8; commandBinary() keeps them as bytes (the tenant Redis
// export's DUMP payloads and key names).

// ---------------------------------------------------------------------------------------------------------------
// Types and errors

export type RedisArg = string | number | Buffer;

// Error replies nested inside arrays (EXEC) are values; a top-level error reply rejects the command instead.
export type RedisValue = string | number | null | RedisReplyError | RedisValue[];
// The same with bulk strings as bytes (commandBinary): DUMP payloads and values are binary, not UTF-8.
export type RedisBinaryValue = Buffer | string | number | null | RedisReplyError | RedisBinaryValue[];

export type RedisConnectOptions = {
  host?: string;
  port?: number;
  // A unix socket path; when set, host and port are ignored.
  path?: string;
  user?: string;
  password?: string;
  // Connecting and authenticating together.
  connectTimeoutMs?: number;
  // Default timeout of each command; a command can override it.
  commandTimeoutMs?: number;
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

// The `#<hex>` form of an ACL password: Redis stores and compares the SHA-256 of the password, so handing it the
// hash means the cleartext is never sent over the wire, logged by the server or written to the ACL file.
export function redisAclPasswordHash(password: string): string {
  return createHash("sha256").update(password, "utf8").digest("hex");
}

// ---------------------------------------------------------------------------------------------------------------
// Arguments and replies

/** node-redis takes strings and buffers; numbers are sent as their decimal text, as Redis expects. */
export function commandArguments(args: readonly RedisArg[]): (string | Buffer)[] {
  if (args.length === 0) throw new RangeError("a Redis command needs at least one argument");
  return args.map((arg) => {
    if (typeof arg !== "number") return arg;
    if (!Number.isFinite(arg)) throw new RangeError("a Redis argument must be a finite number");
    return String(arg);
  });
}

/** node-redis's RESP2 replies in this module's terms: error replies become RedisReplyError; other types are refused. */
export function toRedisValue(reply: unknown): RedisValue {
  if (reply === null || typeof reply === "string" || typeof reply === "number") return reply;
  if (reply instanceof ErrorReply) return new RedisReplyError(reply.message);
  if (Buffer.isBuffer(reply)) return reply.toString("utf8");
  if (Array.isArray(reply)) return reply.map(toRedisValue);
  throw new RedisConnectionError("protocol", "unexpected Redis reply type");
}

/** Like toRedisValue, but bulk strings stay Buffers (commandBinary asks node-redis for them as such). */
function toRedisBinaryValue(reply: unknown): RedisBinaryValue {
  if (reply === null || typeof reply === "string" || typeof reply === "number" || Buffer.isBuffer(reply)) return reply;
  if (reply instanceof ErrorReply) return new RedisReplyError(reply.message);
  if (Array.isArray(reply)) return reply.map(toRedisBinaryValue);
  throw new RedisConnectionError("protocol", "unexpected Redis reply type");
}

const BINARY_REPLIES = { [RESP_TYPES.BLOB_STRING]: Buffer } as const;

// ---------------------------------------------------------------------------------------------------------------
// Connection

const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_COMMAND_TIMEOUT_MS = 10_000;
// setTimeout fires at once for delays above 2^31-1 ms.
const MAX_TIMER_MS = 2_147_483_647;

// node-redis subscribes through its own methods (it tracks the subscriptions and routes the messages); these commands
// go there. One channel or pattern per call, so the reply stays the one Redis sends for it.
const SUBSCRIPTION_COMMANDS = new Set([
  "subscribe",
  "psubscribe",
  "ssubscribe",
  "unsubscribe",
  "punsubscribe",
  "sunsubscribe",
]);

function newClient(options: RedisConnectOptions, connectTimeoutMs: number) {
  const common = { connectTimeout: connectTimeoutMs, reconnectStrategy: false as const, keepAlive: true };
  return createClient({
    socket:
      options.path !== undefined
        ? { ...common, path: options.path }
        : { ...common, host: options.host ?? "127.0.0.1", port: options.port ?? 6379 },
    ...(options.user !== undefined ? { username: options.user } : {}),
    ...(options.password !== undefined ? { password: options.password } : {}),
    RESP: 2,
    // Commands fail at once while the connection is down instead of waiting in a queue for a reconnect.
    disableOfflineQueue: true,
    // No CLIENT SETINFO on connect: tenant users may not run CLIENT, and the handshake should be AUTH only.
    disableClientInfo: true,
  });
}

type Client = ReturnType<typeof newClient>;

function timeoutValue(value: number | undefined, fallback: number, name: string): number {
  const ms = value ?? fallback;
  if (!Number.isFinite(ms) || ms <= 0 || ms > MAX_TIMER_MS) throw new RangeError(`${name} must be a positive number`);
  return Math.ceil(ms);
}

function endpoint(options: RedisConnectOptions): string {
  return options.path ?? `${options.host ?? "127.0.0.1"}:${options.port ?? 6379}`;
}

function errnoCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error && typeof error.code === "string"
    ? error.code
    : undefined;
}

/**
 * Why a connection failed, from what node-redis reports: the socket's own errors and node-redis's connection errors
 * mean it went away (worth a retry); anything else comes from its reply decoder or command queue (bytes that are not
 * RESP2, a reply nobody asked for), which a retry will not fix.
 */
function connectionFailure(cause: unknown): RedisConnectionError {
  if (
    errnoCode(cause) !== undefined ||
    cause instanceof SocketClosedUnexpectedlyError ||
    cause instanceof SocketTimeoutError ||
    cause instanceof ClientClosedError ||
    cause instanceof ClientOfflineError ||
    cause instanceof DisconnectsClientError
  ) {
    return new RedisConnectionError("closed", "Redis connection failed", { cause });
  }
  return new RedisConnectionError("protocol", "invalid RESP2 reply", { cause });
}

export class RedisConnection {
  // Resolves when the connection is gone, whoever closed it; the error says why unless close() was called.
  readonly closed: Promise<RedisConnectionError | null>;
  private readonly listeners = new Set<(message: RedisPubSubMessage) => void>();
  private readonly subscriptions = {
    channels: new Set<string>(),
    patterns: new Set<string>(),
    shards: new Set<string>(),
  };
  private failure: RedisConnectionError | null = null;
  private resolveClosed: (reason: RedisConnectionError | null) => void = () => {};

  constructor(
    private readonly client: Client,
    private readonly commandTimeoutMs: number,
  ) {
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    // node-redis reports a broken connection and a reply it could not use here, and stays open after the latter:
    // either way the connection is not trusted any more.
    client.on("error", (cause: unknown) => this.fail(connectionFailure(cause)));
    client.on("end", () => this.fail(new RedisConnectionError("closed", "Redis connection closed")));
  }

  get isClosed(): boolean {
    return this.failure !== null;
  }

  async command(args: readonly RedisArg[], options: { timeoutMs?: number } = {}): Promise<RedisValue> {
    if (this.failure !== null) throw this.failure;
    const name = typeof args[0] === "string" ? args[0].toLowerCase() : "";
    const argv = commandArguments(args);
    const timeoutMs = timeoutValue(options.timeoutMs, this.commandTimeoutMs, "timeoutMs");
    if (SUBSCRIPTION_COMMANDS.has(name)) {
      if (args.length !== 2) throw new RangeError(`${name} must name exactly one channel or pattern per call`);
      return this.subscription(name, String(argv[1]), timeoutMs);
    }
    try {
      // rejectInFlight: the timeout also covers a command already sent, which is the case that matters.
      return toRedisValue(await this.client.sendCommand(argv, { timeout: timeoutMs, rejectInFlight: true }));
    } catch (error) {
      throw this.translate(error, timeoutMs);
    }
  }

  /**
   * command() for binary data (tenant Redis export: DUMP payloads): bulk string replies come back as Buffers instead
   * of being decoded as UTF-8, which would corrupt them. Same timeouts and errors; not for (un)subscribing.
   */
  async commandBinary(args: readonly RedisArg[], options: { timeoutMs?: number } = {}): Promise<RedisBinaryValue> {
    if (this.failure !== null) throw this.failure;
    const argv = commandArguments(args);
    const timeoutMs = timeoutValue(options.timeoutMs, this.commandTimeoutMs, "timeoutMs");
    try {
      const reply = await this.client.sendCommand(argv, {
        timeout: timeoutMs,
        rejectInFlight: true,
        typeMapping: BINARY_REPLIES,
      });
      return toRedisBinaryValue(reply);
    } catch (error) {
      throw this.translate(error, timeoutMs);
    }
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
      this.client.destroy();
      // Closed on purpose: `closed` reports no error.
      this.resolveClosed(null);
    }
    await this.closed;
  }

  /** SUBSCRIBE and friends through node-redis, answered like Redis answers them: [kind, name, subscriptions]. */
  private async subscription(name: string, target: string, timeoutMs: number): Promise<RedisValue> {
    const { channels, patterns, shards } = this.subscriptions;
    let run: () => Promise<void>;
    let after: () => void;
    switch (name) {
      case "subscribe":
        run = () => this.client.SUBSCRIBE(target, (message, channel) => this.emit(channel, null, message, false));
        after = () => channels.add(target);
        break;
      case "psubscribe":
        run = () => this.client.PSUBSCRIBE(target, (message, channel) => this.emit(channel, target, message, false));
        after = () => patterns.add(target);
        break;
      case "ssubscribe":
        run = () => this.client.SSUBSCRIBE(target, (message, channel) => this.emit(channel, null, message, true));
        after = () => shards.add(target);
        break;
      case "unsubscribe":
        run = () => this.client.UNSUBSCRIBE(target);
        after = () => channels.delete(target);
        break;
      case "punsubscribe":
        run = () => this.client.PUNSUBSCRIBE(target);
        after = () => patterns.delete(target);
        break;
      default:
        run = () => this.client.SUNSUBSCRIBE(target);
        after = () => shards.delete(target);
        break;
    }
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimeoutError()), timeoutMs);
    });
    try {
      await Promise.race([run(), late]);
    } catch (error) {
      throw this.translate(error, timeoutMs);
    } finally {
      clearTimeout(timer);
    }
    after();
    // Sharded subscriptions are counted apart from the others, as Redis counts them.
    const count = name === "ssubscribe" || name === "sunsubscribe" ? shards.size : channels.size + patterns.size;
    return [name, target, count];
  }

  /** One error type per cause; a late reply also drops the connection, failing everything in flight. */
  private translate(error: unknown, timeoutMs: number): Error {
    if (error instanceof ErrorReply) return new RedisReplyError(error.message);
    if (error instanceof RedisConnectionError || error instanceof RangeError) return error;
    if (error instanceof TimeoutError || error instanceof TimeoutReadError) {
      const failure = new RedisConnectionError("timeout", `Redis command timed out after ${timeoutMs} ms`);
      this.fail(failure);
      return failure;
    }
    if (this.failure !== null) return this.failure;
    const failure = connectionFailure(error);
    this.fail(failure);
    return failure;
  }

  private emit(channel: string, pattern: string | null, message: string, sharded: boolean): void {
    const event: RedisPubSubMessage = { channel, pattern, message, sharded };
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A throwing listener must not break the connection for everyone else.
      }
    }
  }

  private fail(error: RedisConnectionError): void {
    if (this.failure !== null) return;
    this.failure = error;
    // destroy() rejects every command in flight (node-redis's DisconnectsClientError, mapped by translate).
    if (this.client.isOpen) this.client.destroy();
    this.resolveClosed(error);
  }
}

// Opens a connection and authenticates it. AUTH failures reject with the server's RedisReplyError (WRONGPASS), with
// the connection already closed.
export async function connectRedis(options: RedisConnectOptions): Promise<RedisConnection> {
  const connectTimeoutMs = timeoutValue(options.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS, "connectTimeoutMs");
  const commandTimeoutMs = timeoutValue(options.commandTimeoutMs, DEFAULT_COMMAND_TIMEOUT_MS, "commandTimeoutMs");
  if (options.user !== undefined && options.password === undefined) {
    throw new RangeError("a Redis user needs a password");
  }
  const where = endpoint(options);
  const client = newClient(options, connectTimeoutMs);
  // Until the connection exists, errors are the connect promise's; this keeps the event from being unhandled.
  client.on("error", () => undefined);

  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new RedisConnectionError("timeout", `connecting to Redis at ${where} timed out after ${connectTimeoutMs} ms`),
        ),
      connectTimeoutMs,
    );
  });
  try {
    await Promise.race([client.connect(), late]);
  } catch (error) {
    if (client.isOpen) client.destroy();
    if (error instanceof RedisConnectionError) throw error;
    if (error instanceof ErrorReply) throw new RedisReplyError(error.message);
    if (error instanceof ConnectionTimeoutError) {
      throw new RedisConnectionError(
        "timeout",
        `connecting to Redis at ${where} timed out after ${connectTimeoutMs} ms`,
        { cause: error },
      );
    }
    const message = `could not connect to Redis at ${where} (${errnoCode(error) ?? "error"})`;
    throw new RedisConnectionError("connect", message, { cause: error });
  } finally {
    clearTimeout(timer);
  }
  return new RedisConnection(client, commandTimeoutMs);
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
