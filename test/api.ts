// Calling REST route handlers in-process, as the API tests do: a Request in, the handler's Response out.
export type Route = (request: Request, context: { params: Promise<Record<string, string>> }) => Promise<Response>;

/** The error body every API error answers with (docs/api.md). */
export type ErrorJson = { error: { code: string; message: string; details?: { path: string }[]; requestId: string } };

export const BASE = "http://tussilago.test";

export type CallOptions = {
  method?: string;
  /** Sent as a bearer token; none when absent (or null). */
  token?: string | null;
  /** Bytes are sent as they are (application/gzip, an upload); anything else as JSON. */
  body?: unknown;
  params?: Record<string, string>;
  /** Sent last, over the caller's defaults and the ones above (an idempotency key, a content type). */
  headers?: Record<string, string>;
};

export type Call = (route: Route, path: string, options?: CallOptions) => Promise<Response>;

/** A `call` that sends these headers with every request (a user agent, a client address), before its own. */
export function apiCaller(defaults: { headers?: Record<string, string> } = {}): Call {
  return (route, path, options = {}) => {
    const headers: Record<string, string> = { ...defaults.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: BodyInit | undefined;
    if (options.body instanceof Uint8Array) {
      headers["content-type"] = "application/gzip";
      body = new Uint8Array(options.body);
    } else if (options.body !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(options.body);
    }
    Object.assign(headers, options.headers);
    const request = new Request(`${BASE}${path}`, {
      method: options.method ?? "GET",
      headers,
      ...(body === undefined ? {} : { body }),
    });
    return route(request, { params: Promise.resolve(options.params ?? {}) });
  };
}

/** Calls a route handler with a JSON body (or bytes) and a bearer token. */
export const call: Call = apiCaller();

/** The `error` object of an error response. */
export async function errorOf(response: Response): Promise<ErrorJson["error"]> {
  return ((await response.json()) as ErrorJson).error;
}
