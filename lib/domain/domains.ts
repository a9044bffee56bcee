// Custom domains: a team's own hostname on one of its apps. Added as `pending` with a verification token; routed (and
// given a certificate by Caddy) only once `verified`, by a DNS proof of control (lib/infra/dns/proof.ts), checked on
// request (verifyDomain) and periodically by the worker (lib/engine/domain-verify.ts). A verified domain whose proof
// disappears is flagged (proofMissingSince, checkError) and stays routed: dropping a live site on one bad DNS answer
// would be worse than showing the flag. A hostname belongs to one app of one team at a time (unique index).
import { randomBytes } from "node:crypto";
import { enqueue, requestRoutingSync } from "@/jobs/enqueue";
import type { Db, Tx } from "@/lib/db";
import { appHostname } from "@/lib/domain/apps";
import { recordAudit } from "@/lib/domain/audit";
import { authorize, type Ctx } from "@/lib/domain/context";
import { hostOfUrl, normalizeHostname, verificationRecordName } from "@/lib/domain/hostname-rules";
import { afterCursor, type Page, type PageInput, toPage } from "@/lib/domain/pagination";
import { enforceDomainQuota } from "@/lib/domain/quotas";
import { enforceRateLimit, type RateLimitRule } from "@/lib/domain/rate-limit";
import { getEnv } from "@/lib/env";
import { AppError } from "@/lib/errors";
import { type Domain, Prisma } from "@/lib/generated/prisma/client";
import type { ProofChecker, ProofOutcome } from "@/lib/infra/dns/types";

export type DnsRecord = { type: "TXT" | "A" | "AAAA" | "CNAME"; name: string; value: string };

export type DomainView = {
  id: string;
  appId: string;
  hostname: string;
  status: Domain["status"];
  verification: DnsRecord & { type: "TXT" };
  /** Records that prove control as well, and route the name here: A/AAAA to this installation, or a CNAME. */
  alternatives: DnsRecord[];
  verifiedAt: Date | null;
  verifiedBy: string | null;
  lastCheckedAt: Date | null;
  proofMissingSince: Date | null;
  checkError: string | null;
  tls: { status: Domain["tlsStatus"]; issuer: string | null; expiresAt: Date | null; error: string | null };
  redirectHttps: boolean;
  hsts: boolean;
  createdAt: Date;
  updatedAt: Date;
};

/** What views need besides the row: the app's default host (the CNAME target). */
/** The delay before a newly verified domain's first certificate check: the routing sync runs first. */
const FIRST_TLS_CHECK_DELAY_MS = 10_000;

const withApp = { app: { select: { name: true, status: true, team: { select: { slug: true } } } } } as const;
type DomainWithApp = Prisma.DomainGetPayload<{ include: typeof withApp }>;

export function domainView(row: DomainWithApp): DomainView {
  const alternatives: DnsRecord[] = getEnv().domains.publicIps.map((ip) => ({
    type: ip.includes(":") ? "AAAA" : "A",
    name: row.hostname,
    value: ip,
  }));
  alternatives.push({ type: "CNAME", name: row.hostname, value: appHostname(row.app.name, row.app.team.slug) });
  return {
    id: row.id,
    appId: row.appId,
    hostname: row.hostname,
    status: row.status,
    verification: { type: "TXT", name: verificationRecordName(row.hostname), value: row.verificationToken },
    alternatives,
    verifiedAt: row.verifiedAt,
    verifiedBy: row.verifiedBy,
    lastCheckedAt: row.lastCheckedAt,
    proofMissingSince: row.proofMissingSince,
    checkError: row.checkError,
    tls: { status: row.tlsStatus, issuer: row.tlsIssuer, expiresAt: row.tlsExpiresAt, error: row.tlsError },
    redirectHttps: row.redirectHttps,
    hsts: row.hsts,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** The rules a hostname must pass here: the apps domain and the portal's own host are the platform's. */
export function hostnamePolicy() {
  const env = getEnv();
  return { appsDomain: env.appsDomain, portalHost: hostOfUrl(env.publicUrl) ?? "" };
}

/** 160 random bits, hex: the TXT value. Not a secret (it sits in public DNS), only unguessable before it is shown. */
function newVerificationToken(): string {
  return `tussilago-verify-${randomBytes(20).toString("hex")}`;
}

function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002";
}

function refuseDeletingApp(app: { status: string }): void {
  if (app.status === "deleting") throw new AppError("conflict", "This app is being deleted.");
}

function hostnameTaken(hostname: string, sameApp: boolean): AppError {
  return new AppError(
    "conflict",
    sameApp
      ? `${hostname} is already a domain of this app.`
      : `${hostname} is already in use on this platform; remove it there first.`,
    { details: [{ path: "hostname", message: "already in use" }] },
  );
}

export async function addDomain(db: Db, ctx: Ctx, appId: string, input: { hostname: string }): Promise<DomainView> {
  authorize(ctx, "apps:write");
  const hostname = normalizeHostname(input.hostname, hostnamePolicy());
  try {
    return await db.$transaction(async (tx) => {
      // The app's row lock orders this against the app's deletion (which takes the same lock).
      await tx.$queryRaw`SELECT id FROM "App" WHERE id = ${appId}::uuid AND "teamId" = ${ctx.teamId}::uuid FOR UPDATE`;
      const app = await tx.app.findFirst({ where: { id: appId, teamId: ctx.teamId }, select: { status: true } });
      if (!app) throw new AppError("not_found", "App not found.");
      refuseDeletingApp(app);
      const holder = await tx.domain.findUnique({ where: { hostname }, select: { appId: true } });
      if (holder) throw hostnameTaken(hostname, holder.appId === appId);
      await enforceDomainQuota(tx, ctx.teamId);
      const row = await tx.domain.create({
        data: {
          teamId: ctx.teamId,
          appId,
          hostname,
          verificationToken: newVerificationToken(),
          createdBy: ctx.actor.type === "user" ? ctx.actor.userId : null,
        },
        include: withApp,
      });
      await recordAudit(tx, ctx, {
        action: "domain.add",
        target: { type: "domain", id: row.id },
        metadata: { hostname, appId },
      });
      return domainView(row);
    });
  } catch (error) {
    // Two teams adding one name at once: the unique index decides, and the loser hears the same 409.
    if (isUniqueViolation(error)) throw hostnameTaken(hostname, false);
    throw error;
  }
}

/** An app's domains, oldest last, in one query per page whatever their number. */
export async function listDomains(db: Db, ctx: Ctx, appId: string, page: PageInput): Promise<Page<DomainView>> {
  authorize(ctx, "apps:read");
  const app = await db.app.findFirst({
    where: { id: appId, teamId: ctx.teamId },
    select: {
      name: true,
      status: true,
      team: { select: { slug: true } },
      domains: {
        where: afterCursor(page.cursor),
        orderBy: [{ createdAt: "desc" }, { id: "desc" }],
        take: page.limit + 1,
      },
    },
  });
  if (!app) throw new AppError("not_found", "App not found.");
  const owner = { name: app.name, status: app.status, team: app.team };
  return toPage(app.domains, page.limit, (row) => domainView({ ...row, app: owner }));
}

async function getDomainRow(db: Db | Tx, ctx: Ctx, domainId: string): Promise<DomainWithApp> {
  const row = await db.domain.findFirst({ where: { id: domainId, teamId: ctx.teamId }, include: withApp });
  if (!row) throw new AppError("not_found", "Domain not found.");
  return row;
}

export async function getDomain(db: Db, ctx: Ctx, domainId: string): Promise<DomainView> {
  authorize(ctx, "apps:read");
  return domainView(await getDomainRow(db, ctx, domainId));
}

export async function updateDomain(
  db: Db,
  ctx: Ctx,
  domainId: string,
  input: { redirectHttps?: boolean | undefined; hsts?: boolean | undefined },
): Promise<DomainView> {
  authorize(ctx, "apps:write");
  return await db.$transaction(async (tx) => {
    const current = await getDomainRow(tx, ctx, domainId);
    refuseDeletingApp(current.app);
    const data = {
      ...(input.redirectHttps === undefined ? {} : { redirectHttps: input.redirectHttps }),
      ...(input.hsts === undefined ? {} : { hsts: input.hsts }),
    };
    const row = await tx.domain.update({ where: { id: current.id }, data, include: withApp });
    await recordAudit(tx, ctx, {
      action: "domain.update",
      target: { type: "domain", id: row.id },
      metadata: { hostname: row.hostname, ...data },
    });
    // Redirects and HSTS live in Caddy's config, which is rendered from the rows.
    if (row.status === "verified") await requestRoutingSync(tx);
    return domainView(row);
  });
}

export async function removeDomain(db: Db, ctx: Ctx, domainId: string): Promise<void> {
  authorize(ctx, "apps:write");
  await db.$transaction(async (tx) => {
    const row = await getDomainRow(tx, ctx, domainId);
    await tx.domain.delete({ where: { id: row.id } });
    await recordAudit(tx, ctx, {
      action: "domain.remove",
      target: { type: "domain", id: row.id },
      metadata: { hostname: row.hostname, appId: row.appId },
    });
    if (row.status === "verified") await requestRoutingSync(tx);
  });
}

/** Who made a check: a person or token asking now, or the worker's periodic re-check. */
export type CheckActor = { ctx: Ctx } | { system: true };

/**
 * Records a check's outcome on the domain, in the caller's transaction. Conditional on the status it read, so a
 * request and the worker checking at once write one transition (and one audit row, one routing sync).
 *   proven:    pending → verified (routing sync); a verified domain's flag clears.
 *   missing:   a pending one keeps the reason; a verified one is flagged (proofMissingSince kept from the first miss).
 *   dns_error: the reason is shown, nothing else changes: a failed lookup proves nothing either way.
 */
export async function recordDomainCheck(
  tx: Tx,
  domain: Pick<Domain, "id" | "teamId" | "hostname" | "status">,
  outcome: ProofOutcome,
  actor: CheckActor,
  now: Date = new Date(),
): Promise<void> {
  const where = { id: domain.id, status: domain.status };
  if (outcome.kind === "proven") {
    const changed = await tx.domain.updateMany({
      where,
      data: {
        status: "verified",
        verifiedBy: outcome.by,
        lastCheckedAt: now,
        proofMissingSince: null,
        checkError: null,
        ...(domain.status === "pending" ? { verifiedAt: now } : {}),
      },
    });
    if (changed.count === 1 && domain.status === "pending") {
      await auditCheck(tx, domain, actor, { hostname: domain.hostname, by: outcome.by });
      await requestRoutingSync(tx);
      // The certificate check's TLS handshake is what makes Caddy obtain the certificate on demand: queue it now
      // (after the sync has had time to route the name) instead of waiting up to the periodic check's 5 minutes.
      if (getEnv().tls.enabled) {
        await enqueue(
          tx,
          "domain__check_tls",
          { domainId: domain.id },
          { jobKey: `domain-tls:${domain.id}`, runAt: new Date(now.getTime() + FIRST_TLS_CHECK_DELAY_MS) },
        );
      }
    }
    return;
  }
  if (outcome.kind === "missing") {
    await tx.domain.updateMany({ where, data: { lastCheckedAt: now, checkError: outcome.message } });
    if (domain.status === "verified") {
      await tx.domain.updateMany({ where: { ...where, proofMissingSince: null }, data: { proofMissingSince: now } });
    }
    return;
  }
  await tx.domain.updateMany({ where, data: { lastCheckedAt: now, checkError: outcome.message } });
}

async function auditCheck(
  tx: Tx,
  domain: Pick<Domain, "id" | "teamId">,
  actor: CheckActor,
  metadata: Prisma.InputJsonValue,
): Promise<void> {
  const target = { type: "domain", id: domain.id };
  if ("ctx" in actor) {
    await recordAudit(tx, actor.ctx, { action: "domain.verify", target, metadata });
    return;
  }
  await tx.auditEvent.create({
    data: {
      teamId: domain.teamId,
      actorType: "system",
      actorLabel: "platform",
      action: "domain.verify",
      targetType: target.type,
      targetId: target.id,
      metadata,
    },
  });
}

/** Checks on request per team: each costs a few DNS queries, and a loop must not turn the platform into a flood. */
export const VERIFY_PER_TEAM: RateLimitRule = { limit: 30, windowMs: 60_000 };

/**
 * Checks the domain's DNS now (a lookup with a short total deadline, not an infrastructure command: the checker is
 * passed in by the edge) and answers the domain as it is after the check.
 */
export async function verifyDomain(db: Db, ctx: Ctx, domainId: string, check: ProofChecker): Promise<DomainView> {
  authorize(ctx, "apps:write");
  const before = await getDomainRow(db, ctx, domainId);
  refuseDeletingApp(before.app);
  await enforceRateLimit(
    db,
    `domain-verify:${ctx.teamId}`,
    VERIFY_PER_TEAM,
    "Too many domain checks in a short time; wait a minute (the platform also re-checks pending domains by itself).",
  );
  const outcome = await check({ hostname: before.hostname, token: before.verificationToken });
  return await db.$transaction(async (tx) => {
    await recordDomainCheck(tx, before, outcome, { ctx });
    return domainView(await getDomainRow(tx, ctx, domainId));
  });
}
