// The firewall check's view of the INPUT chain host setup writes: the tenant servers' fixed ports must be open.
import { describe, expect, it } from "vitest";
import { tenantPortsClosed } from "@/lib/checks/check";
import { parseEnv } from "@/lib/env";

const base = { TUSSILAGO_SECRET_KEY: "x".repeat(40), TUSSILAGO_DATA_DIR: "/tmp/tussilago-check-test" };

const RULES = [
  "-N TUSSILAGO-ISOLATION-INPUT",
  "-A TUSSILAGO-ISOLATION-INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
  "-A TUSSILAGO-ISOLATION-INPUT -p tcp -m tcp --dport 15432 -j RETURN",
  "-A TUSSILAGO-ISOLATION-INPUT -p tcp -m tcp --dport 16379 -j RETURN",
  "-A TUSSILAGO-ISOLATION-INPUT -j DROP",
].join("\n");

describe("tenantPortsClosed", () => {
  it("is satisfied when host setup opened the configured ports", () => {
    const env = parseEnv({ ...base, TENANT_PG_PORT: "15432", TENANT_REDIS_PORT: "16379" });
    expect(tenantPortsClosed(env, RULES)).toEqual([]);
  });

  it("names the servers whose port the firewall does not open", () => {
    const env = parseEnv({ ...base, TENANT_PG_PORT: "5433", TENANT_REDIS_PORT: "16379" });
    expect(tenantPortsClosed(env, RULES)).toEqual(["the tenant PostgreSQL"]);
    expect(tenantPortsClosed(env, null)).toEqual(["the tenant PostgreSQL", "the tenant Redis"]);
  });

  it("checks the embedded PgBouncer's port too", () => {
    const env = parseEnv({
      ...base,
      TENANT_PG_PORT: "15432",
      TENANT_REDIS_PORT: "16379",
      TENANT_PGBOUNCER: "embedded",
      TENANT_PGBOUNCER_PORT: "16432",
    });
    expect(tenantPortsClosed(env, RULES)).toEqual(["the tenant PgBouncer"]);
  });

  it("has nothing to check when the ports are not fixed", () => {
    expect(tenantPortsClosed(parseEnv(base), "")).toEqual([]);
  });
});
