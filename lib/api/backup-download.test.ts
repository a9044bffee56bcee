// GET /api/v1/backups/{id}/download: the stored object streamed back decrypted (byte for byte the plain dump), with
// a safe file name; admins only (a member's token 403, another team's backup 404); a tampered object aborts the
// stream instead of ending it; the OpenAPI document shows a binary answer.
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GET as downloadRoute } from "@/app/api/v1/backups/[id]/download/route";
import { buildOpenApiDocument } from "@/lib/api/openapi";
import { backupsDir } from "@/lib/data-paths";
import { getDb } from "@/lib/db";
import { backupStoreConfig, getEnv } from "@/lib/env";
import { backupEncryptionKey, createBackupStore } from "@/lib/infra/backup-store";
import { call, errorOf } from "@/test/api";
import { addMember, createTestTeam, createTestToken, createTestUser } from "@/test/factories";

let work: string;

beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), "backup-download-"));
});

afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

/** A team with a verified backup whose object holds `plain` (a pg_dump custom archive starts with PGDMP). */
async function teamWithBackup(plain: Buffer) {
  const owner = await createTestUser();
  const team = await createTestTeam(owner.id);
  const database = await getDb().tenantDatabase.create({
    data: { teamId: team.id, name: `orders-${randomBytes(3).toString("hex")}`, status: "ready" },
  });
  const backup = await getDb().backup.create({
    data: {
      teamId: team.id,
      kind: "postgres",
      databaseId: database.id,
      sourceName: database.name,
      trigger: "manual",
      status: "verified",
      sizeBytes: plain.length,
      startedAt: new Date("2026-12-03T04:05:06Z"),
      finishedAt: new Date("2026-12-03T04:06:00Z"),
    },
  });
  const storageKey = `${team.id}/${database.id}/${backup.id}.dump`;
  await getDb().backup.update({ where: { id: backup.id }, data: { storageKey } });
  const file = path.join(work, `${backup.id}.plain`);
  await fs.writeFile(file, plain);
  const env = getEnv();
  await createBackupStore(backupStoreConfig(env), backupEncryptionKey(env.secretKey)).put(storageKey, file);
  const admin = await createTestToken(team.id, ["read", "write"]);
  return { teamId: team.id, backupId: backup.id, databaseName: database.name, storageKey, admin };
}

const dump = () => Buffer.concat([Buffer.from("PGDMP\x01\x0e\x00", "latin1"), randomBytes(200 * 1024 + 17)]);

const download = (backupId: string, token: string) =>
  call(downloadRoute, `/api/v1/backups/${backupId}/download`, { token, params: { id: backupId } });

describe("GET /api/v1/backups/{id}/download", () => {
  it("streams the plain dump byte for byte as an attachment with a safe name, and audits it", async () => {
    const plain = dump();
    const t = await teamWithBackup(plain);
    const response = await download(t.backupId, t.admin);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/octet-stream");
    expect(response.headers.get("content-disposition")).toBe(
      `attachment; filename="${t.databaseName}-202612030405.dump"`,
    );
    const body = Buffer.from(await response.arrayBuffer());
    expect(body.subarray(0, 5).toString("latin1")).toBe("PGDMP");
    expect(body.length).toBe(plain.length);
    expect(body.equals(plain)).toBe(true);
    const audit = await getDb().auditEvent.findMany({ where: { teamId: t.teamId, action: "backup.downloaded" } });
    expect(audit).toHaveLength(1);
  });

  it("answers 403 to a member's token and 404 for another team's backup", async () => {
    const t = await teamWithBackup(dump());
    const member = await createTestUser();
    await addMember(t.teamId, member.id, "member");
    const memberToken = await createTestToken(t.teamId, ["read", "write"]);
    const tokenRow = await getDb().apiToken.findFirstOrThrow({
      where: { teamId: t.teamId },
      orderBy: { createdAt: "desc" },
    });
    await getDb().apiToken.update({ where: { id: tokenRow.id }, data: { createdBy: member.id } });
    const refused = await download(t.backupId, memberToken);
    expect(refused.status).toBe(403);
    expect((await errorOf(refused)).code).toBe("forbidden");

    const other = await teamWithBackup(dump());
    const foreign = await download(t.backupId, other.admin);
    expect(foreign.status).toBe(404);
    expect((await errorOf(foreign)).code).toBe("not_found");
  });

  it("aborts the stream on a tampered object instead of ending it", async () => {
    const t = await teamWithBackup(dump());
    const stored = path.join(backupsDir(getEnv().dataDir), ...t.storageKey.split("/"));
    const bytes = await fs.readFile(stored);
    const middle = Math.floor(bytes.length / 2);
    bytes.writeUInt8(bytes.readUInt8(middle) ^ 0xff, middle);
    await fs.writeFile(stored, bytes);
    const response = await download(t.backupId, t.admin);
    expect(response.status).toBe(200);
    await expect(response.arrayBuffer()).rejects.toThrow();
  });

  it("is documented as a binary answer", () => {
    const paths = buildOpenApiDocument("http://tussilago.test").paths as Record<string, Record<string, unknown>>;
    expect(paths["/api/v1/backups/{id}/download"]?.get).toMatchObject({
      responses: { 200: { content: { "application/octet-stream": { schema: { type: "string", format: "binary" } } } } },
    });
  });
});
