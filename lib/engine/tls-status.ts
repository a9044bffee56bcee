// A custom domain's certificate status, taken from what Caddy actually serves (issue #13): the worker opens a TLS
// connection to Caddy's HTTPS listener with SNI = the domain and reads the certificate it gets. Caddy obtains
// certificates on demand during such a handshake, so the first check of a newly verified domain also starts the
// issuance. A domain whose state crosses "issued" (either way) gets a Caddy sync, since the HTTP -> HTTPS redirect is
// rendered only for domains with a certificate (lib/engine/routing.ts).
import { checkServerIdentity, connect, type DetailedPeerCertificate, type PeerCertificate } from "node:tls";
import type { Logger } from "pino";
import { enqueue, requestRoutingSync } from "@/jobs/enqueue";
import type { Db } from "@/lib/db";
import { notifyTeam } from "@/lib/domain/notifications";
import { AppError } from "@/lib/errors";
import type { DomainTlsStatus } from "@/lib/generated/prisma/enums";

/** Where the worker reaches Caddy's HTTPS listener. */
export type TlsTarget = { host: string; port: number };

export type TlsProbeResult =
  | { status: "issued"; issuer: string; expiresAt: Date }
  | { status: "failed"; reason: string }
  // Caddy may still be obtaining the certificate (it holds the handshake meanwhile): nothing is known yet.
  | { status: "pending"; reason: string }
  // Caddy itself is not reachable: says nothing about the domain, and must not be recorded against it.
  | { status: "unreachable" };

/** A verified domain is probed again after this long (issued ones: to follow renewals and expiry). */
export const TLS_RECHECK_MS = 60 * 60_000;
/** Not issued yet: looked at again sooner, so the redirect and the portal's status follow within minutes. */
export const TLS_PENDING_RECHECK_MS = 5 * 60_000;
export const TLS_CHECKS_PER_RUN = 500;
const DEFAULT_TIMEOUT_MS = 30_000;
// Caddy's own internal CA (`tls internal`, the fallback for names no public CA serves): not a real certificate.
const CADDY_INTERNAL_ISSUER = /caddy local authority/i;

/** Caddy's HTTPS listen address as a place to connect to: a wildcard host means this host's loopback. */
export function tlsTargetFromListen(listen: string): TlsTarget {
  const index = listen.lastIndexOf(":");
  const host = listen.slice(0, index).replace(/^\[|\]$/g, "");
  const port = Number(listen.slice(index + 1));
  return { host: host === "" || host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host, port };
}

function field(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** "Let's Encrypt (R11)": the issuer's organisation and common name, whichever it has. */
export function issuerName(cert: PeerCertificate): string {
  const org = field(cert.issuer?.O);
  const cn = field(cert.issuer?.CN);
  if (org && cn) return `${org} (${cn})`;
  return org ?? cn ?? "unknown issuer";
}

/** Whether the certificate Caddy served for `hostname` is a real one for it, and why not. */
export function judgeCertificate(cert: DetailedPeerCertificate, hostname: string, now: Date): TlsProbeResult {
  if (!cert.raw || cert.raw.length === 0) return { status: "failed", reason: "Caddy served no certificate." };
  const issuer = issuerName(cert);
  const selfSigned =
    JSON.stringify(cert.issuer) === JSON.stringify(cert.subject) ||
    (cert.issuerCertificate?.fingerprint256 === cert.fingerprint256 && cert.issuerCertificate !== undefined);
  if (selfSigned || CADDY_INTERNAL_ISSUER.test(issuer)) {
    return {
      status: "failed",
      reason: "Caddy served a self-signed placeholder certificate: no certificate was obtained from the CA yet.",
    };
  }
  if (checkServerIdentity(hostname, cert) !== undefined) {
    return { status: "failed", reason: `The certificate served does not cover ${hostname}.` };
  }
  const expiresAt = new Date(cert.valid_to);
  if (Number.isNaN(expiresAt.getTime())) return { status: "failed", reason: "The certificate has no valid expiry." };
  if (expiresAt.getTime() <= now.getTime()) {
    return { status: "failed", reason: `The certificate expired on ${expiresAt.toISOString().slice(0, 10)}.` };
  }
  return { status: "issued", issuer, expiresAt };
}

const UNREACHABLE = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "EADDRNOTAVAIL", "ENOTFOUND"]);

/**
 * Connects to Caddy with SNI = hostname and judges the certificate. Verification is off on purpose: the point is to
 * see what is served (a test CA, a wrong or self-signed one) and say so, not to fail the handshake on it.
 */
export function probeCertificate(
  target: TlsTarget,
  hostname: string,
  options: { timeoutMs?: number; now?: Date } = {},
): Promise<TlsProbeResult> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: TlsProbeResult) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(result);
    };
    const socket = connect({
      host: target.host,
      port: target.port,
      servername: hostname,
      rejectUnauthorized: false,
      ALPNProtocols: ["http/1.1"],
    });
    socket.setTimeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, () =>
      finish({
        status: "pending",
        reason: "Caddy did not answer in time: the certificate may still be being obtained.",
      }),
    );
    socket.once("secureConnect", () => {
      finish(judgeCertificate(socket.getPeerCertificate(true), hostname, options.now ?? new Date()));
    });
    socket.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== undefined && UNREACHABLE.has(error.code)) return finish({ status: "unreachable" });
      // A handshake alert: Caddy has no certificate for the name (the ask endpoint said no, or the CA refused).
      finish({
        status: "failed",
        reason:
          "Caddy has no certificate for this hostname: the certificate authority has not issued one (check that the " +
          "DNS records point at this installation and that ports 80 and 443 are reachable).",
      });
    });
  });
}

type DomainTlsRow = { tlsStatus: DomainTlsStatus; tlsError: string | null };

/**
 * Probes one domain and records what Caddy serves. Gone, not verified or its app being deleted: nothing to do.
 * Caddy unreachable: nothing is recorded and a retryable error is thrown (the job's bounded backoff applies).
 */
export async function checkDomainTls(
  db: Db,
  domainId: string,
  deps: { target: TlsTarget; log: Logger; now?: () => Date; timeoutMs?: number },
): Promise<TlsProbeResult | null> {
  const domain = await db.domain.findUnique({
    where: { id: domainId },
    select: {
      hostname: true,
      status: true,
      tlsStatus: true,
      tlsError: true,
      teamId: true,
      appId: true,
      app: { select: { status: true } },
    },
  });
  if (domain?.status !== "verified" || !["running", "stopped"].includes(domain.app.status)) return null;
  const now = deps.now?.() ?? new Date();
  const result = await probeCertificate(deps.target, domain.hostname, {
    now,
    ...(deps.timeoutMs ? { timeoutMs: deps.timeoutMs } : {}),
  });
  if (result.status === "unreachable") {
    throw new AppError("unavailable", "The HTTPS server (Caddy) is not reachable; the certificate is checked later.", {
      retryable: true,
    });
  }
  const log = deps.log.child({ domainId });
  await db.$transaction(async (tx) => {
    const data = tlsUpdate(domain, result, now);
    await tx.domain.update({ where: { id: domainId }, data });
    // Told when the certificate turns failed, not at every later check that finds it still failed.
    if (data.tlsStatus === "failed" && domain.tlsStatus !== "failed") {
      await notifyTeam(tx, {
        teamId: domain.teamId,
        event: "certificate.failed",
        subject: { appId: domain.appId, domainId },
        summary: `No valid certificate for ${domain.hostname}: ${result.status === "failed" ? result.reason : ""}`,
      });
    }
    if ((domain.tlsStatus === "issued") !== (data.tlsStatus === "issued")) {
      // The redirect to HTTPS follows the certificate (rendered only for issued ones).
      await requestRoutingSync(tx);
      log.info({ tlsStatus: data.tlsStatus }, "certificate status changed; routing sync requested");
    }
  });
  return result;
}

function tlsUpdate(current: DomainTlsRow, result: Exclude<TlsProbeResult, { status: "unreachable" }>, now: Date) {
  if (result.status === "issued") {
    return {
      tlsStatus: "issued" as const,
      tlsIssuer: result.issuer,
      tlsExpiresAt: result.expiresAt,
      tlsError: null,
      tlsCheckedAt: now,
    };
  }
  if (result.status === "pending") {
    // A slow answer proves nothing: an issued certificate stays issued, anything else waits with the reason shown.
    return current.tlsStatus === "issued"
      ? { tlsCheckedAt: now, tlsStatus: "issued" as const }
      : { tlsStatus: "pending" as const, tlsError: result.reason, tlsCheckedAt: now };
  }
  return {
    tlsStatus: "failed" as const,
    tlsIssuer: null,
    tlsExpiresAt: null,
    tlsError: result.reason,
    tlsCheckedAt: now,
  };
}

/** Verified domains of routed apps whose certificate is due for a look, oldest check first (one query). */
export async function dueTlsDomainIds(db: Db, now: Date = new Date()): Promise<string[]> {
  const rows = await db.domain.findMany({
    where: {
      status: "verified",
      app: { status: { in: ["running", "stopped"] } },
      OR: [
        { tlsCheckedAt: null },
        { tlsStatus: { not: "issued" }, tlsCheckedAt: { lt: new Date(now.getTime() - TLS_PENDING_RECHECK_MS) } },
        { tlsCheckedAt: { lt: new Date(now.getTime() - TLS_RECHECK_MS) } },
      ],
    },
    orderBy: [{ tlsCheckedAt: { sort: "asc", nulls: "first" } }, { id: "asc" }],
    take: TLS_CHECKS_PER_RUN,
    select: { id: true },
  });
  return rows.map((row) => row.id);
}

/** Queues one domain__check_tls per due domain (a pending one for the same domain is not doubled). */
export async function scheduleTlsChecks(db: Db, log: Logger, now: Date = new Date()): Promise<number> {
  const ids = await dueTlsDomainIds(db, now);
  if (ids.length === 0) return 0;
  await db.$transaction(async (tx) => {
    for (const domainId of ids) {
      await enqueue(tx, "domain__check_tls", { domainId }, { jobKey: `domain-tls:${domainId}` });
    }
  });
  log.info({ count: ids.length }, "certificate checks queued");
  return ids.length;
}
