// The worker's side of custom domain ownership: which domains are due for a DNS re-check (one query), and one check
// of one domain (domain__check). Pending domains are retried often so a new record is noticed soon; verified ones are
// re-checked hourly, so a proof that disappears is flagged (lib/domain/domains.ts recordDomainCheck) without the
// domain being dropped. A failed lookup (SERVFAIL, timeout) is retried with the job's bounded backoff and never
// counts as "record missing".
import type { Logger } from "pino";
import { enqueue } from "@/jobs/enqueue";
import type { Db } from "@/lib/db";
import { recordDomainCheck } from "@/lib/domain/domains";
import { AppError } from "@/lib/errors";
import type { ProofChecker, ProofOutcome } from "@/lib/infra/dns/types";

/** A pending domain is looked at again after this long; a verified one after VERIFIED_RECHECK_MS. */
export const PENDING_RECHECK_MS = 10 * 60_000;
export const VERIFIED_RECHECK_MS = 60 * 60_000;
/** Pending domains older than this are left alone by the schedule (the user can still check now). */
export const PENDING_GIVE_UP_MS = 14 * 24 * 60 * 60_000;
/** At most this many checks are queued per run; the oldest checks go first, the rest follow on the next run. */
export const CHECKS_PER_RUN = 500;

/** Domains due for a check, oldest check first: one query over the (status, lastCheckedAt) index. */
export async function dueDomainIds(db: Db, now: Date = new Date()): Promise<string[]> {
  const pendingBefore = new Date(now.getTime() - PENDING_RECHECK_MS);
  const verifiedBefore = new Date(now.getTime() - VERIFIED_RECHECK_MS);
  const rows = await db.domain.findMany({
    where: {
      app: { status: { not: "deleting" } },
      OR: [
        {
          status: "pending",
          createdAt: { gt: new Date(now.getTime() - PENDING_GIVE_UP_MS) },
          OR: [{ lastCheckedAt: null }, { lastCheckedAt: { lt: pendingBefore } }],
        },
        { status: "verified", OR: [{ lastCheckedAt: null }, { lastCheckedAt: { lt: verifiedBefore } }] },
      ],
    },
    orderBy: [{ lastCheckedAt: { sort: "asc", nulls: "first" } }, { id: "asc" }],
    take: CHECKS_PER_RUN,
    select: { id: true },
  });
  return rows.map((row) => row.id);
}

/** Queues one domain__check per due domain; a check already pending for a domain is not doubled (job key). */
export async function scheduleDomainChecks(db: Db, log: Logger, now: Date = new Date()): Promise<number> {
  const ids = await dueDomainIds(db, now);
  if (ids.length === 0) return 0;
  await db.$transaction(async (tx) => {
    for (const domainId of ids)
      await enqueue(tx, "domain__check", { domainId }, { jobKey: `domain-check:${domainId}` });
  });
  log.info({ count: ids.length }, "domain checks queued");
  return ids.length;
}

/**
 * Checks one domain's DNS and records the outcome. Gone, or its app being deleted: nothing to do. A DNS failure is
 * recorded (the user sees why) and then thrown as retryable, so the job tries again with its bounded backoff.
 */
export async function checkDomain(
  db: Db,
  domainId: string,
  deps: { check: ProofChecker; log: Logger; now?: () => Date },
): Promise<ProofOutcome | null> {
  const domain = await db.domain.findUnique({
    where: { id: domainId },
    select: {
      id: true,
      teamId: true,
      hostname: true,
      status: true,
      verificationToken: true,
      app: { select: { status: true } },
    },
  });
  if (!domain || domain.app.status === "deleting") return null;
  const outcome = await deps.check({ hostname: domain.hostname, token: domain.verificationToken });
  const now = deps.now?.() ?? new Date();
  await db.$transaction((tx) => recordDomainCheck(tx, domain, outcome, { system: true }, now));
  const log = deps.log.child({ domainId, teamId: domain.teamId });
  if (outcome.kind === "dns_error") {
    log.warn({ codes: outcome.codes, hostname: domain.hostname }, "domain check: DNS lookups failed");
    throw new AppError("unavailable", outcome.message, { retryable: true });
  }
  if (outcome.kind === "proven") log.info({ by: outcome.by, status: domain.status }, "domain check: proven");
  else log.info({ status: domain.status }, "domain check: no proof found");
  return outcome;
}
