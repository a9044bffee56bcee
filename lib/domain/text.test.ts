// Every input schema that feeds a stored column or a query refuses what PostgreSQL and Prisma cannot take (a lone
// surrogate, NUL), and names, commands, paths and filters refuse control characters and bidi overrides (issue #22).
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { getDb } from "@/lib/db";
import { appName, appSettings, envValue, healthCheckPath } from "@/lib/domain/app-rules";
import { auditFilters, listAuditEvents } from "@/lib/domain/audit";
import { envChanges } from "@/lib/domain/env-vars";
import { emailInput, teamName, tokenName, userName } from "@/lib/domain/schemas";
import { serviceName } from "@/lib/domain/tenant-service-rules";
import { isPlainLine, isStorable } from "@/lib/domain/text";
import { expectAppError } from "@/test/errors";
import { createTestTeam, createTestUser, userCtx } from "@/test/factories";

const LONE = ["\ud800", "a\udfffb", "x\ud83d"];
const NUL = ["\u0000", "a\u0000b"];
const CONTROLS = ["echo \u001b[31mred", "a\u0007b", "a\u007fb", "a\u0085b", "a\u009bb", "a\tb", "a\nb", "a\rb"];
const BIDI = ["run \u202egnp.exe", "a\u2066b", "a\u200fb"];

function refuses(schema: z.ZodType, value: unknown): void {
  expect(schema.safeParse(value).success, JSON.stringify(value)).toBe(false);
}

describe("the text rule", () => {
  it("tells storable strings from lone surrogates and NUL, and keeps well-formed pairs", () => {
    expect(isStorable("snow ☃ and 😀, tabs\tand\nlines")).toBe(true);
    for (const value of [...LONE, ...NUL]) expect(isStorable(value)).toBe(false);
    expect(isPlainLine("gunicorn app:app --bind 0.0.0.0:$PORT 😀")).toBe(true);
    for (const value of [...LONE, ...NUL, ...CONTROLS, ...BIDI]) expect(isPlainLine(value)).toBe(false);
  });

  it("app settings refuse malformed text, NUL, controls and bidi overrides in commands and the subdirectory", () => {
    for (const field of ["webCommand", "installCommand", "releaseCommand", "subdirectory"]) {
      for (const value of [...LONE, ...NUL, ...CONTROLS, ...BIDI]) refuses(appSettings, { [field]: value });
    }
    expect(appSettings.safeParse({ webCommand: "gunicorn app:app", subdirectory: "src/☃" }).success).toBe(true);
  });

  it("names, emails, paths and the audit filter refuse the same", () => {
    const lines: z.ZodType[] = [appName, teamName, userName, tokenName, serviceName, healthCheckPath];
    for (const schema of lines) {
      for (const value of [...LONE, ...NUL, ...CONTROLS, ...BIDI]) refuses(schema, `ab${value}`);
    }
    for (const value of [...LONE, ...NUL]) refuses(emailInput, `a${value}@example.com`);
    for (const value of [...LONE, ...NUL, ...CONTROLS, ...BIDI]) {
      refuses(auditFilters, { action: `app.${value}created` });
    }
    expect(auditFilters.safeParse({ action: "app.created" }).success).toBe(true);
  });

  it("env values refuse lone surrogates and NUL, and keep newlines and tabs (multi-line keys)", () => {
    for (const value of [...LONE, ...NUL]) {
      refuses(envValue, value);
      refuses(envChanges, { SECRET: value });
    }
    const pem = "-----BEGIN KEY-----\nabc\tdef\r\n-----END KEY-----\n";
    expect(envValue.safeParse(pem).success).toBe(true);
    expect(envChanges.safeParse({ SECRET: pem }).success).toBe(true);
  });
});

describe("the audit log's filters in the domain", () => {
  it("refuses NUL, control characters and dates PostgreSQL cannot hold with invalid, not a database error", async () => {
    const user = await createTestUser();
    const team = await createTestTeam(user.id);
    const ctx = await userCtx(user.id, team.id);
    const page = { limit: 10 };
    for (const filters of [
      { action: "\u0000" },
      { action: "app.\u001bcreated" },
      { since: new Date("0000-01-01T00:00:00Z") },
      { until: new Date("+010000-01-01T00:00:00Z") },
    ]) {
      await expectAppError(listAuditEvents(getDb(), ctx, filters, page), "invalid");
    }
    expect((await listAuditEvents(getDb(), ctx, { action: "app.created" }, page)).items).toEqual([]);
  });
});
