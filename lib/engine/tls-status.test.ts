// Certificate status from what the HTTPS server actually serves: a local node:tls server stands in for Caddy, with
// certificates made by `openssl` (a test CA and its leaves, a self-signed one); unknown names fail the handshake the
// way Caddy does when the ask endpoint refuses. The status is recorded on the Domain row, and crossing "issued"
// requests a Caddy sync (the redirect to HTTPS follows the certificate).
import { execFile } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { createSecureContext, createServer, type SecureContext, type Server } from "node:tls";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDb } from "@/lib/db";
import {
  checkDomainTls,
  dueTlsDomainIds,
  probeCertificate,
  type TlsTarget,
  tlsTargetFromListen,
} from "@/lib/engine/tls-status";
import { AppError } from "@/lib/errors";
import type { AppStatus, DomainStatus, DomainTlsStatus } from "@/lib/generated/prisma/enums";
import { createTestTeam, createTestUser } from "@/test/factories";
import { pendingJobs, withRawClient } from "@/test/helpers";
import { silentLog } from "@/test/release-helpers";

const run = promisify(execFile);
const ISSUED = `issued-${randomBytes(3).toString("hex")}.example.test`;
const SELF = `self-${randomBytes(3).toString("hex")}.example.test`;
const WRONG = `wrong-${randomBytes(3).toString("hex")}.example.test`;
const UNKNOWN = `unknown-${randomBytes(3).toString("hex")}.example.test`;

let dir: string;
let server: Server;
let target: TlsTarget;

async function openssl(args: string[]): Promise<void> {
  await run("openssl", args, { cwd: dir, timeout: 30_000 });
}

/** A leaf key and certificate for `name`, signed by the test CA (or by itself). */
async function leaf(file: string, name: string, signer: "ca" | "self"): Promise<{ key: string; cert: string }> {
  const subject = `/CN=${name}`;
  await writeFile(path.join(dir, `${file}.ext`), `subjectAltName=DNS:${name}\n`);
  if (signer === "self") {
    await openssl(
      ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "30"].concat([
        "-subj",
        subject,
        "-addext",
        `subjectAltName=DNS:${name}`,
        "-keyout",
        `${file}.key`,
        "-out",
        `${file}.pem`,
      ]),
    );
  } else {
    await openssl(
      ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", subject].concat([
        "-keyout",
        `${file}.key`,
        "-out",
        `${file}.csr`,
      ]),
    );
    await openssl(
      ["x509", "-req", "-in", `${file}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial"].concat([
        "-days",
        "30",
        "-extfile",
        `${file}.ext`,
        "-out",
        `${file}.pem`,
      ]),
    );
  }
  const key = await readFile(path.join(dir, `${file}.key`), "utf8");
  const cert = await readFile(path.join(dir, `${file}.pem`), "utf8");
  const ca = await readFile(path.join(dir, "ca.pem"), "utf8");
  // Like Caddy, the server sends its chain: the leaf and the issuer.
  return { key, cert: signer === "ca" ? cert + ca : cert };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "tsl-tls-status-"));
  await openssl(
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "30"].concat([
      "-subj",
      "/O=Tussilago Test CA/CN=Test Intermediate",
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
    ]),
  );
  const contexts = new Map<string, SecureContext>([
    [ISSUED, createSecureContext(await leaf("issued", ISSUED, "ca"))],
    [SELF, createSecureContext(await leaf("self", SELF, "self"))],
    // A real certificate, but for another name.
    [WRONG, createSecureContext(await leaf("wrong", `other-${WRONG}`, "ca"))],
  ]);
  server = createServer({
    SNICallback: (name, callback) => {
      const context = contexts.get(name);
      if (context) callback(null, context);
      else callback(new Error("no certificate for this name"));
    },
  });
  server.on("tlsClientError", () => undefined);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  target = { host: "127.0.0.1", port: (server.address() as AddressInfo).port };
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

async function domain(
  hostname: string,
  options: { status?: DomainStatus; tlsStatus?: DomainTlsStatus; appStatus?: AppStatus; tlsCheckedAt?: Date } = {},
) {
  const db = getDb();
  const owner = await createTestUser();
  const team = await createTestTeam(owner.id);
  const app = await db.app.create({
    data: { teamId: team.id, name: `t-${randomBytes(3).toString("hex")}`, status: options.appStatus ?? "running" },
  });
  return await db.domain.create({
    data: {
      teamId: team.id,
      appId: app.id,
      hostname,
      verificationToken: randomUUID(),
      status: options.status ?? "verified",
      tlsStatus: options.tlsStatus ?? "pending",
      tlsCheckedAt: options.tlsCheckedAt ?? null,
    },
  });
}

async function clearJobs(): Promise<void> {
  await withRawClient((client) => client.query("DELETE FROM graphile_worker._private_jobs"));
}

describe("probeCertificate", () => {
  it("reads the issuer and expiry of a CA-issued certificate for the name", async () => {
    const result = await probeCertificate(target, ISSUED);
    expect(result).toMatchObject({ status: "issued", issuer: "Tussilago Test CA (Test Intermediate)" });
    if (result.status !== "issued") throw new Error("unreachable");
    const days = (result.expiresAt.getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(28);
    expect(days).toBeLessThanOrEqual(31);
  });

  it("says why a served certificate is not one: self-signed, another name, expired, none at all", async () => {
    expect(await probeCertificate(target, SELF)).toEqual({
      status: "failed",
      reason: "Caddy served a self-signed placeholder certificate: no certificate was obtained from the CA yet.",
    });
    expect(await probeCertificate(target, WRONG)).toEqual({
      status: "failed",
      reason: `The certificate served does not cover ${WRONG}.`,
    });
    const later = new Date(Date.now() + 60 * 86_400_000);
    expect(await probeCertificate(target, ISSUED, { now: later })).toMatchObject({
      status: "failed",
      reason: expect.stringMatching(/^The certificate expired on \d{4}-\d{2}-\d{2}\.$/),
    });
    const none = await probeCertificate(target, UNKNOWN);
    expect(none).toMatchObject({ status: "failed", reason: expect.stringContaining("has no certificate") });
    // Never an address in what the user reads.
    expect(JSON.stringify(none)).not.toContain("127.0.0.1");
  });

  it("tells an unreachable server apart from a refused name", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    expect(await probeCertificate({ host: "127.0.0.1", port }, ISSUED)).toEqual({ status: "unreachable" });
  });

  it("connects to loopback for a wildcard listen address", () => {
    expect(tlsTargetFromListen(":443")).toEqual({ host: "127.0.0.1", port: 443 });
    expect(tlsTargetFromListen("0.0.0.0:8443")).toEqual({ host: "127.0.0.1", port: 8443 });
    expect(tlsTargetFromListen("[::1]:443")).toEqual({ host: "::1", port: 443 });
    expect(tlsTargetFromListen("192.0.2.10:443")).toEqual({ host: "192.0.2.10", port: 443 });
  });
});

describe("checkDomainTls", () => {
  it("records an issued certificate and requests a Caddy sync once, when the state becomes issued", async () => {
    const row = await domain(ISSUED);
    await clearJobs();
    const now = new Date();
    await checkDomainTls(getDb(), row.id, { target, log: silentLog, now: () => now });
    const stored = await getDb().domain.findUniqueOrThrow({ where: { id: row.id } });
    expect(stored).toMatchObject({
      tlsStatus: "issued",
      tlsIssuer: "Tussilago Test CA (Test Intermediate)",
      tlsError: null,
      tlsCheckedAt: now,
    });
    expect(stored.tlsExpiresAt?.getTime()).toBeGreaterThan(now.getTime());
    expect(await pendingJobs("caddy__sync")).toHaveLength(1);

    await clearJobs();
    await checkDomainTls(getDb(), row.id, { target, log: silentLog });
    expect(await pendingJobs("caddy__sync")).toHaveLength(0);
  });

  it("records a failure with its reason, and asks for a sync when an issued certificate is lost", async () => {
    const row = await domain(SELF, { tlsStatus: "issued" });
    await getDb().domain.update({ where: { id: row.id }, data: { tlsIssuer: "Old CA", tlsExpiresAt: new Date() } });
    await clearJobs();
    await checkDomainTls(getDb(), row.id, { target, log: silentLog });
    expect(await getDb().domain.findUniqueOrThrow({ where: { id: row.id } })).toMatchObject({
      tlsStatus: "failed",
      tlsIssuer: null,
      tlsExpiresAt: null,
      tlsError: expect.stringContaining("self-signed"),
    });
    expect(await pendingJobs("caddy__sync")).toHaveLength(1);
  });

  it("tells the team's channels (certificate.failed) when the certificate turns failed, once", async () => {
    const hostname = `notify-${UNKNOWN}`;
    const row = await domain(hostname, { tlsStatus: "issued" });
    await getDb().notificationChannel.create({
      data: { teamId: row.teamId, kind: "email", name: "ops", targetSealed: "x", events: ["certificate.failed"] },
    });
    await clearJobs();
    await checkDomainTls(getDb(), row.id, { target, log: silentLog });
    await checkDomainTls(getDb(), row.id, { target, log: silentLog });
    const events = await getDb().notificationEvent.findMany({ where: { teamId: row.teamId } });
    expect(events).toMatchObject([
      { event: "certificate.failed", domainId: row.id, appId: row.appId, summary: expect.stringContaining(hostname) },
    ]);
    expect(await pendingJobs("notification__deliver")).toHaveLength(1);
  });

  it("records nothing and throws a retryable error when the HTTPS server is unreachable", async () => {
    const row = await domain(`x-${ISSUED}`);
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = await checkDomainTls(getDb(), row.id, { target: { host: "127.0.0.1", port }, log: silentLog }).catch(
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).retryable).toBe(true);
    expect(await getDb().domain.findUniqueOrThrow({ where: { id: row.id } })).toMatchObject({
      tlsStatus: "pending",
      tlsCheckedAt: null,
    });
  });

  it("leaves pending domains and deleting apps' domains alone", async () => {
    const pending = await domain(`p-${ISSUED}`, { status: "pending" });
    const deleting = await domain(`q-${ISSUED}`, { appStatus: "deleting" });
    for (const row of [pending, deleting]) {
      expect(await checkDomainTls(getDb(), row.id, { target, log: silentLog })).toBeNull();
      expect((await getDb().domain.findUniqueOrThrow({ where: { id: row.id } })).tlsCheckedAt).toBeNull();
    }
  });
});

describe("dueTlsDomainIds", () => {
  it("picks verified domains never checked, not issued for 5 minutes, or checked over an hour ago", async () => {
    const now = new Date();
    const minutesAgo = (m: number) => new Date(now.getTime() - m * 60_000);
    const fresh = await domain(`a-${ISSUED}`);
    const failedLongAgo = await domain(`b-${ISSUED}`, { tlsStatus: "failed", tlsCheckedAt: minutesAgo(6) });
    const failedJustNow = await domain(`c-${ISSUED}`, { tlsStatus: "failed", tlsCheckedAt: minutesAgo(1) });
    const issuedRecently = await domain(`d-${ISSUED}`, { tlsStatus: "issued", tlsCheckedAt: minutesAgo(30) });
    const issuedLongAgo = await domain(`e-${ISSUED}`, { tlsStatus: "issued", tlsCheckedAt: minutesAgo(61) });
    const pending = await domain(`f-${ISSUED}`, { status: "pending" });
    const ids = await dueTlsDomainIds(getDb(), now);
    expect(ids).toEqual(expect.arrayContaining([fresh.id, failedLongAgo.id, issuedLongAgo.id]));
    for (const skipped of [failedJustNow, issuedRecently, pending]) expect(ids).not.toContain(skipped.id);
  });
});
