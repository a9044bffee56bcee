import { spawnSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "@/test/net";
import { REDIS_ADMIN_USER, type RedisServer, startRedisServer } from "../redis-server";
import { connectRedis, type RedisConnection } from "../resp";
import { EXPORT_FORMAT, exportTenantRedis, importTenantRedis, TenantRedisError, tenantRedisNames } from "./index";
import { failure } from "./test-fixtures";

const hasRedis = spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;
const skipped = hasRedis ? "" : " (skipped: redis-server is not installed; apt-get install -y redis-server)";

describe.skipIf(!hasRedis)(`tenant Redis export and import on a real redis-server${skipped}`, () => {
  const adminPassword = randomBytes(24).toString("base64url");
  let dir: string;
  let server: RedisServer;
  let adminUrl: string;
  let admin: RedisConnection;

  const prefixOf = (resourceId: string): string => `${tenantRedisNames(resourceId).keyPrefix}:`;
  const keysOf = async (resourceId: string): Promise<string[]> => {
    const reply = await admin.command(["KEYS", `${prefixOf(resourceId)}*`]);
    return (reply as string[]).sort();
  };
  const file = (name: string): string => join(dir, name);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tussilago-redis-export-"));
    const port = await freePort();
    server = await startRedisServer({ dir: join(dir, "server"), port, adminPassword });
    adminUrl = `redis://${REDIS_ADMIN_USER}:${encodeURIComponent(adminPassword)}@127.0.0.1:${port}`;
    admin = await connectRedis({ host: "127.0.0.1", port, user: REDIS_ADMIN_USER, password: adminPassword });
  });
  afterAll(async () => {
    await admin?.close();
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("round trips strings, binary values, hashes, lists, sets, zsets and streams with TTLs into another tenant", async () => {
    const source = randomUUID();
    const target = randomUUID();
    const p = prefixOf(source);
    const binary = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x0a, 0x41]);
    await admin.command(["SET", `${p}greeting`, "hello", "PX", 3_600_000]);
    await admin.command(["SET", `${p}bytes`, binary]);
    await admin.command(["HSET", `${p}user:1`, "name", "Ada", "lang", "fr"]);
    await admin.command(["RPUSH", `${p}queue`, "a", "b", "c"]);
    await admin.command(["SADD", `${p}tags`, "x", "y"]);
    await admin.command(["ZADD", `${p}scores`, 1, "one", 2, "two"]);
    await admin.command(["XADD", `${p}events`, "1-1", "kind", "signup"]);
    await admin.command(["PEXPIRE", `${p}events`, 7_200_000]);
    // Another tenant's key, which must not be exported.
    await admin.command(["SET", `${prefixOf(randomUUID())}secret`, "not yours"]);
    // The target's own key that a merge keeps and a replace removes.
    await admin.command(["SET", `${prefixOf(target)}own`, "mine"]);

    const exported = await exportTenantRedis({ adminUrl, resourceId: source, outFile: file("a.jsonl") });
    expect(exported.keys).toBe(7);
    const text = await readFile(file("a.jsonl"), "utf8");
    expect(exported.bytes).toBe(Buffer.byteLength(text));
    expect(text).not.toContain("not yours");
    expect(JSON.parse(text.split("\n")[0] as string).format).toBe(EXPORT_FORMAT);
    // Names are stored relative to the prefix.
    expect(text).not.toContain(Buffer.from(p).toString("base64").slice(0, 20));

    expect(await importTenantRedis({ adminUrl, resourceId: target, inFile: file("a.jsonl"), mode: "merge" })).toEqual({
      keys: 7,
    });
    const t = prefixOf(target);
    expect(await keysOf(target)).toEqual(
      ["bytes", "events", "greeting", "own", "queue", "scores", "tags", "user:1"].map((k) => `${t}${k}`),
    );
    expect(await admin.command(["GET", `${t}greeting`])).toBe("hello");
    const bytes = await admin.commandBinary(["GET", `${t}bytes`]);
    expect(Buffer.isBuffer(bytes) && bytes.equals(binary)).toBe(true);
    expect(await admin.command(["HGET", `${t}user:1`, "name"])).toBe("Ada");
    expect(await admin.command(["LRANGE", `${t}queue`, 0, -1])).toEqual(["a", "b", "c"]);
    expect(await admin.command(["SMEMBERS", `${t}tags`])).toHaveLength(2);
    expect(await admin.command(["ZSCORE", `${t}scores`, "two"])).toBe("2");
    expect(await admin.command(["XLEN", `${t}events`])).toBe(1);
    const ttl = (await admin.command(["PTTL", `${t}greeting`])) as number;
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(3_600_000);
    expect(await admin.command(["PTTL", `${t}bytes`])).toBe(-1);
    expect(await admin.command(["PTTL", `${t}events`])).toBeGreaterThan(3_600_000);

    await importTenantRedis({ adminUrl, resourceId: target, inFile: file("a.jsonl"), mode: "replace" });
    expect(await keysOf(target)).not.toContain(`${t}own`);
    expect(await keysOf(target)).toHaveLength(7);
  });

  it("exports an empty tenant as a header alone, and replacing with it empties the target", async () => {
    const empty = randomUUID();
    const target = randomUUID();
    await admin.command(["SET", `${prefixOf(target)}k`, "v"]);
    expect(await exportTenantRedis({ adminUrl, resourceId: empty, outFile: file("empty.jsonl") })).toMatchObject({
      keys: 0,
    });
    expect((await readFile(file("empty.jsonl"), "utf8")).trim().split("\n")).toHaveLength(1);
    await importTenantRedis({ adminUrl, resourceId: target, inFile: file("empty.jsonl"), mode: "replace" });
    expect(await keysOf(target)).toEqual([]);
  });

  it("keeps a hostile file's keys under the target's prefix, skips keys expired since the export, refuses non-exports", async () => {
    const source = randomUUID();
    const victim = randomUUID();
    const target = randomUUID();
    await admin.command(["SET", `${prefixOf(source)}v`, "payload"]);
    await exportTenantRedis({ adminUrl, resourceId: source, outFile: file("s.jsonl") });
    const [header, line] = (await readFile(file("s.jsonl"), "utf8")).trim().split("\n") as [string, string];
    const dump = JSON.parse(line).d as string;
    const victimKey = `${prefixOf(victim)}stolen`;
    const names = ["../escape", victimKey, "*", "\u0000raw"];
    const hostile = [
      header,
      ...names.map((name) => JSON.stringify({ k: Buffer.from(name).toString("base64"), ttl: null, d: dump })),
      // Expired an hour after a header from two hours ago: skipped.
      JSON.stringify({ k: Buffer.from("old").toString("base64"), ttl: 1_000, d: dump }),
    ];
    const old = JSON.stringify({ ...JSON.parse(header), exportedAt: Date.now() - 7_200_000 });
    await writeFile(file("hostile.jsonl"), `${hostile.join("\n")}\n`);
    await writeFile(file("old.jsonl"), `${[old, hostile[5]].join("\n")}\n`);

    expect(
      await importTenantRedis({ adminUrl, resourceId: target, inFile: file("hostile.jsonl"), mode: "merge" }),
    ).toEqual({ keys: 5 });
    const t = prefixOf(target);
    expect(await keysOf(target)).toEqual([...names, "old"].map((name) => `${t}${name}`).sort());
    expect(await admin.command(["EXISTS", victimKey])).toBe(0);
    expect(await admin.command(["EXISTS", "../escape"])).toBe(0);
    expect(await importTenantRedis({ adminUrl, resourceId: target, inFile: file("old.jsonl"), mode: "merge" })).toEqual(
      { keys: 0 },
    );

    await writeFile(file("not-export.jsonl"), `${JSON.stringify({ format: "other", version: 1 })}\n`);
    await admin.command(["SET", `${t}kept`, "1"]);
    const error = await failure(
      TenantRedisError,
      importTenantRedis({ adminUrl, resourceId: target, inFile: file("not-export.jsonl"), mode: "replace" }),
    );
    expect(error.kind).toBe("invalid_argument");
    // A file that is not an export never empties the target.
    expect(await admin.command(["EXISTS", `${t}kept`])).toBe(1);
    await writeFile(file("bad-dump.jsonl"), `${header}\n${JSON.stringify({ k: "eA==", ttl: null, d: "AAAA" })}\n`);
    expect(
      (
        await failure(
          TenantRedisError,
          importTenantRedis({ adminUrl, resourceId: target, inFile: file("bad-dump.jsonl"), mode: "merge" }),
        )
      ).kind,
    ).toBe("invalid_argument");
  });

  it("stops with out_of_memory when Redis answers OOM", async () => {
    const source = randomUUID();
    const target = randomUUID();
    for (let n = 0; n < 8; n++) await admin.command(["SET", `${prefixOf(source)}big${n}`, randomBytes(512 * 1024)]);
    await exportTenantRedis({ adminUrl, resourceId: source, outFile: file("big.jsonl") });
    const info = (await admin.command(["INFO", "memory"])) as string;
    const used = Number(/used_memory:(\d+)/.exec(info)?.[1]);
    await admin.command(["CONFIG", "SET", "maxmemory-policy", "noeviction"]);
    await admin.command(["CONFIG", "SET", "maxmemory", used + 1024 * 1024]);
    try {
      const error = await failure(
        TenantRedisError,
        importTenantRedis({ adminUrl, resourceId: target, inFile: file("big.jsonl"), mode: "merge" }),
      );
      expect(error.kind).toBe("out_of_memory");
      expect(error.code).toBe("OOM");
    } finally {
      await admin.command(["CONFIG", "SET", "maxmemory", 0]);
    }
  });
});
