// Caddy through its JSON admin API only (docs/security.md, "Caddy"). Caddy 2.6 accepts duplicate `@id`s silently and
// PUT/PATCH on ids are not idempotent, so the platform never edits routes in place: it renders the WHOLE desired
// config from the database and POSTs it to /load, which Caddy skips when unchanged (docs/operations.md). Each tenant
// string is validated here before it can reach a field where Caddy expands `{placeholders}`.
//
// The adapter's public face: importers use "@/lib/infra/caddy", never the files behind it. By concern: errors.ts
// (CaddyError), validate.ts (every tenant string before it reaches the config), render.ts (the whole desired
// config), render-tls.ts (its HTTPS half: on-demand certificates, redirects, HSTS), hash.ts (canonical JSON and its
// hash), client.ts (the admin API over a unix socket or loopback), apply.ts (load with bounded retries).

export {
  type ApplyOptions,
  type ApplyResult,
  applyCaddyConfig,
  backoffDelay,
  DEFAULT_RETRY,
  type RetryPolicy,
} from "./apply";
export { type CaddyClient, type CaddyClientOptions, createCaddyClient, DEFAULT_TIMEOUT_MS } from "./client";
export { CaddyError, type CaddyErrorKind, type CaddyErrorOptions, type CaddyOperation } from "./errors";
export { canonicalJson, configHash } from "./hash";
export {
  ACCESS_LOGGER,
  type AccessLogOptions,
  type CaddyConfig,
  type CaddyHandler,
  type CaddyHeadersHandler,
  type CaddyReverseProxyHandler,
  type CaddyRoute,
  type CaddyServer,
  type CaddyStaticResponseHandler,
  type CaddyUpstream,
  DEFAULT_SERVER_NAME,
  type DesiredApp,
  type DesiredDomain,
  type DesiredRouting,
  FALLBACK_ROUTE_ID,
  HTTPS_FALLBACK_ROUTE_ID,
  HTTPS_SERVER_SUFFIX,
  hstsRouteIdForApp,
  PORTAL_ROUTE_ID,
  type RenderOptions,
  redirectRouteIdForApp,
  renderCaddyConfig,
  routeIdForApp,
} from "./render";
export {
  type CaddyAcmeIssuer,
  type CaddyAutomationPolicy,
  type CaddyTlsApp,
  httpsRedirectLocation,
  type TlsRenderOptions,
} from "./render-tls";
export { normalizeHostname } from "./validate";
