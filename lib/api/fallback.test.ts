// Paths and methods the API does not serve answer in the error shape: 404 for an unknown /api/v1 path, 405 with
// Allow for a method a known path does not serve (Next's own answers are empty bodies).
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { endpoints } from "@/lib/api/endpoints";
import { BASE, type Route } from "@/test/api";

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;

async function routeFiles(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return routeFiles(full);
      return Promise.resolve(entry.name === "route.ts" ? [full] : []);
    }),
  );
  return nested.flat();
}

/** app/api/v1/invitations/[id]/route.ts → /api/v1/invitations/{id} */
function routePath(file: string): string {
  const relative = path.relative("app", path.dirname(file)).split(path.sep);
  return `/${relative.map((segment) => segment.replace(/^\[(.+)\]$/, "{$1}")).join("/")}`;
}

const concrete = (template: string) => template.replace(/\{[^}]+\}/g, "3f1c2a5e-1b2c-4d3e-8f40-123456789abc");

async function expectError(response: Response, status: number, code: string): Promise<void> {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toMatch(/^application\/json/);
  const body = (await response.json()) as { error: { code: string; message: string; requestId: string } };
  expect(body.error.code).toBe(code);
  expect(body.error.requestId).toBe(response.headers.get("x-request-id"));
}

describe("unknown API paths", () => {
  it("answer 404 not_found in the error shape, for every method", async () => {
    const catchAll = (await import("@/app/api/v1/[[...path]]/route")) as Record<string, Route>;
    for (const method of [...METHODS, "OPTIONS"]) {
      const route = catchAll[method] as Route;
      expect(route, method).toBeTypeOf("function");
      const response = await route(new Request(`${BASE}/api/v1/no/such/path`, { method }), {
        params: Promise.resolve({ path: "no/such/path" }),
      });
      await expectError(response, 404, "not_found");
    }
  });
});

describe("a method a path does not serve", () => {
  it("answers 405 method_not_allowed with Allow, on every route of the API", async () => {
    const files = (await routeFiles(path.join("app", "api"))).filter(
      (file) => !file.startsWith(path.join("app", "api", "auth")) && !file.includes("[...path]"),
    );
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) {
      const template = routePath(file);
      const served = endpoints.filter((endpoint) => endpoint.path === template).map((endpoint) => endpoint.method);
      expect(served.length, template).toBeGreaterThan(0);
      const module = (await import(path.resolve(file))) as Record<string, Route | undefined>;
      for (const method of METHODS.filter((method) => !served.includes(method))) {
        const route = module[method];
        expect(route, `${file} does not answer ${method}`).toBeTypeOf("function");
        const response = await (route as Route)(new Request(`${BASE}${concrete(template)}`, { method }), {
          params: Promise.resolve({}),
        });
        const allow = response.headers.get("allow")?.split(/,\s*/) ?? [];
        expect(allow, `${method} ${template}`).toEqual(expect.arrayContaining(served));
        expect(allow.filter((value) => (METHODS as readonly string[]).includes(value)).sort()).toEqual(
          [...served].sort(),
        );
        await expectError(response, 405, "method_not_allowed");
      }
      // Next's own OPTIONS would list every exported method, the 405 handlers included.
      const options = module.OPTIONS;
      expect(options, `${file} does not answer OPTIONS`).toBeTypeOf("function");
      const preflight = await (options as Route)(new Request(`${BASE}${concrete(template)}`, { method: "OPTIONS" }), {
        params: Promise.resolve({}),
      });
      expect(preflight.status).toBe(204);
      const allowed = preflight.headers.get("allow")?.split(/,\s*/) ?? [];
      expect(allowed.filter((value) => (METHODS as readonly string[]).includes(value)).sort(), template).toEqual(
        [...served].sort(),
      );
    }
  });
});
