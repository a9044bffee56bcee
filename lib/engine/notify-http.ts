// One POST of a notification to a tenant's URL, safe against SSRF: the URL is checked as on creation
// (checkWebhookUrl: https, no credentials, no local or private host), its name is resolved and EVERY address checked
// (resolveAndCheckHost, the git sources' check), and the connection is pinned to a checked address through the
// agent's own `lookup`, so a DNS server answering differently the second time (rebinding) cannot swap it. Redirects
// are never followed (undici's request follows none): a 3xx is a final failure.
import type { LookupAddress, LookupOptions } from "node:dns";
import { isIPv6 } from "node:net";
import { Agent, request } from "undici";
import { SourceError } from "@/lib/build/source-errors";
import { type HostLookup, resolveAndCheckHost } from "@/lib/build/source-git/dns";
import { checkWebhookUrl } from "@/lib/domain/notification-channels";
import { AppError } from "@/lib/errors";

export const NOTIFY_TIMEOUT_MS = 10_000;
/** What is read of a receiver's answer: only its status counts. */
const ANSWER_LIMIT_BYTES = 16 * 1024;

export type PostResult =
  | { kind: "answered"; statusCode: number; durationMs: number }
  | { kind: "unreachable"; error: string; durationMs: number }
  | { kind: "refused"; error: string };

export type PostOptions = {
  allowPrivateHosts: boolean;
  timeoutMs?: number;
  /** Injectable DNS for tests; node:dns otherwise. */
  lookup?: HostLookup;
};

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A `lookup` for net.connect that answers the checked address whatever the name. */
function pinnedLookup(address: string) {
  const family = isIPv6(address) ? 6 : 4;
  return (_hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    if (options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  };
}

/** POSTs `body` to `target`; never throws for the receiver's failures (they are the result). */
export async function postNotification(
  target: string,
  body: string,
  headers: Record<string, string>,
  options: PostOptions,
): Promise<PostResult> {
  let url: URL;
  let addresses: string[];
  try {
    url = checkWebhookUrl(target, options.allowPrivateHosts);
    addresses = await resolveAndCheckHost(url.hostname, {
      allowPrivateHosts: options.allowPrivateHosts,
      ...(options.lookup ? { lookup: options.lookup } : {}),
    });
  } catch (error) {
    if (error instanceof AppError) return { kind: "refused", error: error.message };
    if (error instanceof SourceError) {
      if (error.code === "forbidden_host") {
        return {
          kind: "refused",
          error: `The host ${safeHost(target)} resolves to a local, private or reserved address.`,
        };
      }
      if (error.retryable) return { kind: "unreachable", error: error.userMessage, durationMs: 0 };
      return { kind: "refused", error: error.userMessage };
    }
    throw error;
  }
  const timeoutMs = options.timeoutMs ?? NOTIFY_TIMEOUT_MS;
  // A private agent per delivery: the pin belongs to this URL only, and no proxy of the worker's environment applies.
  const agent = new Agent({
    pipelining: 0,
    keepAliveTimeout: 1,
    keepAliveMaxTimeout: 1,
    connect: { timeout: timeoutMs, ...(addresses[0] ? { lookup: pinnedLookup(addresses[0]) } : {}) },
  });
  const started = performance.now();
  try {
    const response = await request(url, {
      method: "POST",
      dispatcher: agent,
      headers: { "content-type": "application/json", "user-agent": "tussilago-notifications", ...headers },
      body,
      signal: AbortSignal.timeout(timeoutMs),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    await response.body.dump({ limit: ANSWER_LIMIT_BYTES }).catch(() => undefined);
    return { kind: "answered", statusCode: response.statusCode, durationMs: Math.round(performance.now() - started) };
  } catch (error) {
    const durationMs = Math.round(performance.now() - started);
    const timedOut = error instanceof Error && /timeout|abort/i.test(`${error.name} ${error.message}`);
    return {
      kind: "unreachable",
      error: timedOut ? `No answer within ${Math.round(timeoutMs / 1000)} s.` : "The receiver could not be reached.",
      durationMs,
    };
  } finally {
    await agent.close().catch(() => undefined);
  }
}

function safeHost(target: string): string {
  try {
    return new URL(target).hostname;
  } catch {
    return "";
  }
}
