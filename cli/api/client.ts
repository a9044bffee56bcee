// The CLI's HTTP client for the REST API: only the operations of cli/api/operations.ts, answers validated with their
// zod schemas, errors turned into CliError with the API's code and message. Every request has a timeout; network
// errors (and 502/503/504) are retried a bounded number of times, but only for requests that are safe to repeat:
// GET, PUT (it sets, so twice is once), and POSTs the server deduplicates by their Idempotency-Key.
import { randomUUID } from "node:crypto";
import { CliError, EXIT, exitCodeForStatus } from "../errors";
import { type OperationName, operations, type ResponseOf } from "./operations";
import { errorBody } from "./schemas";

export type RequestOptions = {
  params?: Record<string, string>;
  query?: Record<string, string | number | undefined>;
  /** A JSON body, or raw bytes with their content type (uploads). */
  body?: unknown;
  raw?: { bytes: Uint8Array; contentType: string };
  /** Overrides the generated key, e.g. to tie a retried command to the same key. */
  idempotencyKey?: string;
};

export type ClientOptions = {
  baseUrl: string;
  token: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
  /** Attempts for a request that is safe to repeat, the first included. */
  attempts?: number;
  /** Milliseconds before the n-th retry (n from 1); bounded, no jitter needed for one user's CLI. */
  backoffMs?: (retry: number) => number;
  userAgent?: string;
};

const RETRIED_STATUSES = new Set([502, 503, 504]);

export class ApiClient {
  readonly baseUrl: string;
  private readonly token: string;
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;
  private readonly attempts: number;
  private readonly backoffMs: (retry: number) => number;
  private readonly userAgent: string;

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.token = options.token;
    this.fetchImpl = options.fetch ?? fetch;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.attempts = options.attempts ?? 4;
    this.backoffMs = options.backoffMs ?? ((retry) => Math.min(500 * 2 ** (retry - 1), 4_000));
    this.userAgent = options.userAgent ?? "tussilago-cli";
  }

  /** The URL of an operation's path with its parameters filled in (each one percent-encoded). */
  static pathOf(template: string, params: Record<string, string> = {}): string {
    return template.replace(/\{([A-Za-z]+)\}/g, (_, name: string) => {
      const value = params[name];
      if (value === undefined) throw new Error(`missing path parameter ${name} for ${template}`);
      return encodeURIComponent(value);
    });
  }

  async call<N extends OperationName>(name: N, options: RequestOptions = {}): Promise<ResponseOf<N>> {
    const spec = operations[name];
    const url = new URL(this.baseUrl + ApiClient.pathOf(spec.path, options.params));
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.token}`,
      accept: "application/json",
      "user-agent": this.userAgent,
    };
    let body: Uint8Array<ArrayBuffer> | string | undefined;
    if (options.raw) {
      headers["content-type"] = options.raw.contentType;
      // A copy typed as fetch wants it (a Buffer may sit on a shared pool); uploads are at most --max-mb.
      body = new Uint8Array(options.raw.bytes);
    } else if (options.body !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(options.body);
    }
    const idempotent = "idempotent" in spec && spec.idempotent === true;
    // One key for all attempts of this call: a retry after a lost answer is answered from the first request.
    if (idempotent) headers["idempotency-key"] = options.idempotencyKey ?? `cli-${randomUUID()}`;
    const repeatable = spec.method === "GET" || spec.method === "PUT" || idempotent;
    const attempts = repeatable ? Math.max(1, this.attempts) : 1;

    let lastNetworkError: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) await sleep(this.backoffMs(attempt - 1));
      let response: Response;
      try {
        response = await this.fetchImpl(url, {
          method: spec.method,
          headers,
          body,
          signal: AbortSignal.timeout(this.timeoutMs),
          redirect: "error",
        });
      } catch (error) {
        lastNetworkError = error;
        continue;
      }
      if (RETRIED_STATUSES.has(response.status) && attempt < attempts) {
        await response.body?.cancel();
        continue;
      }
      return this.read(name, response);
    }
    throw new CliError(
      "unreachable",
      `Could not reach ${this.baseUrl} (${describeNetworkError(lastNetworkError)}) after ${attempts} attempt(s).`,
      EXIT.unavailable,
    );
  }

  private async read<N extends OperationName>(name: N, response: Response): Promise<ResponseOf<N>> {
    const spec = operations[name];
    const text = await response.text();
    if (response.status !== spec.status) {
      const parsed = errorBody.safeParse(safeJson(text));
      if (parsed.success) {
        const { code, message, requestId } = parsed.data.error;
        throw new CliError(code, message, exitCodeForStatus(response.status), requestId);
      }
      throw new CliError(
        "unexpected_answer",
        `${spec.method} ${spec.path} answered HTTP ${response.status}, not a Tussilago API answer (is the URL right?).`,
        response.ok ? EXIT.failure : exitCodeForStatus(response.status),
      );
    }
    if (spec.response === null) return null as ResponseOf<N>;
    const parsed = spec.response.safeParse(safeJson(text));
    if (!parsed.success) {
      throw new CliError(
        "unexpected_answer",
        `${spec.method} ${spec.path} answered a body this CLI does not understand (a different server version?).`,
      );
    }
    return parsed.data as ResponseOf<N>;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function describeNetworkError(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === "TimeoutError") return "timed out";
    const cause = (error as { cause?: { code?: unknown } }).cause;
    if (cause && typeof cause.code === "string") return cause.code;
    return error.message;
  }
  return "network error";
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
