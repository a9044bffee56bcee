import { invalid } from "./errors";
import {
  checkAcmeCa,
  checkAcmeEmail,
  checkAskUrl,
  checkDial,
  checkListen,
  checkPemPath,
  listenPort,
  normalizeHostname,
} from "./validate";

// The HTTPS half of the config (TUSSILAGO_TLS=on), checked against Caddy 2.6.2's source (modules/caddytls,
// modules/caddyhttp/autohttps.go):
// - Certificates come from on-demand TLS only: a catch-all automation policy with `on_demand: true`, and
//   apps.tls.automation.on_demand.ask (2.6's place for it) pointing at the platform's loopback listener, which says
//   yes only for verified domains and app hosts. Caddy obtains a certificate during the first handshake for a name.
// - automatic_https is disabled on both servers: with it on, Caddy 2.6 would collect every host matcher of the HTTPS
//   server at each load, try to manage those names itself and add its own redirect server. We render the TLS
//   connection policy (`tls_connection_policies: [{}]`) and the redirects ourselves.
// - ACME HTTP-01 keeps working: Caddy's Server.ServeHTTP answers /.well-known/acme-challenge/ through the TLS app
//   (HandleHTTPChallenge) before any route runs, on every server, automatic_https or not.
// - The portal's host gets a normal managed certificate (`certificates.automate` + a policy naming it, placed before
//   the catch-all because Caddy takes the first policy that matches a name).

export type TlsRenderOptions = {
  /** Caddy's HTTPS listen addresses, e.g. [":443"]. */
  httpsListen: readonly string[];
  /** The platform's loopback listener Caddy asks before obtaining a certificate on demand. */
  askUrl: string;
  acme: { ca: string; email: string | null; trustedRootsPemFile: string | null };
  /** The portal served through Caddy over HTTPS (an https public URL), or null. */
  portal: { hostname: string; dial: string } | null;
};

export type CaddyAcmeIssuer = { module: "acme"; ca: string; email?: string; trusted_roots_pem_files?: string[] };

export type CaddyAutomationPolicy = { subjects?: string[]; issuers: CaddyAcmeIssuer[]; on_demand?: true };

export type CaddyTlsApp = {
  certificates?: { automate: string[] };
  automation: { policies: CaddyAutomationPolicy[]; on_demand: { ask: string } };
};

export type CheckedTls = {
  httpsListen: string[];
  httpsPort: number;
  askUrl: string;
  issuer: CaddyAcmeIssuer;
  portal: { hostname: string; dial: string } | null;
};

export function checkTlsOptions(options: TlsRenderOptions): CheckedTls {
  const httpsListen = options.httpsListen.map(checkListen);
  const first = httpsListen[0];
  if (first === undefined) throw invalid("invalid_option", "no HTTPS listen address");
  const issuer: CaddyAcmeIssuer = { module: "acme", ca: checkAcmeCa(options.acme.ca) };
  if (options.acme.email !== null) issuer.email = checkAcmeEmail(options.acme.email);
  if (options.acme.trustedRootsPemFile !== null) {
    issuer.trusted_roots_pem_files = [checkPemPath(options.acme.trustedRootsPemFile)];
  }
  const portal =
    options.portal === null
      ? null
      : {
          hostname: normalizeHostname(options.portal.hostname),
          dial: checkDial(options.portal.dial, "portal"),
        };
  return { httpsListen, httpsPort: listenPort(first), askUrl: checkAskUrl(options.askUrl), issuer, portal };
}

export function renderTlsApp(tls: CheckedTls): CaddyTlsApp {
  const onDemand: CaddyAutomationPolicy = { issuers: [{ ...tls.issuer }], on_demand: true };
  if (tls.portal === null) {
    return { automation: { policies: [onDemand], on_demand: { ask: tls.askUrl } } };
  }
  return {
    certificates: { automate: [tls.portal.hostname] },
    automation: {
      policies: [{ subjects: [tls.portal.hostname], issuers: [{ ...tls.issuer }] }, onDemand],
      on_demand: { ask: tls.askUrl },
    },
  };
}

/** Where an HTTP request for a name with a certificate is sent: same host and URI, over HTTPS. */
export function httpsRedirectLocation(httpsPort: number): string {
  // Caddy fills the placeholders per request; the host matcher in front only lets verified names through.
  return `https://{http.request.host}${httpsPort === 443 ? "" : `:${httpsPort}`}{http.request.uri}`;
}
