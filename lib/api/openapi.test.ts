import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { endpoints } from "@/lib/api/endpoints";
import { buildOpenApiDocument } from "@/lib/api/openapi";

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
  return `/${relative
    .filter((segment) => !/^\(.*\)$/.test(segment))
    .map((segment) => segment.replace(/^\[(.+)\]$/, "{$1}"))
    .join("/")}`;
}

describe("OpenAPI document", () => {
  const document = buildOpenApiDocument() as {
    openapi: string;
    paths: Record<string, Record<string, { operationId: string; responses: Record<string, unknown> }>>;
  };

  it("is OpenAPI 3.1 and lists every registered endpoint once", () => {
    expect(document.openapi).toBe("3.1.0");
    for (const endpoint of endpoints) {
      const operation = document.paths[endpoint.path]?.[endpoint.method.toLowerCase()];
      expect(operation?.operationId).toBe(endpoint.id);
      for (const status of Object.keys(endpoint.responses)) expect(operation?.responses).toHaveProperty(status);
    }
    const ids = endpoints.map((endpoint) => endpoint.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("registers every route handler under app/api", async () => {
    // next-auth's own endpoints (app/api/auth) are not part of the REST API.
    const files = (await routeFiles(path.join("app", "api"))).filter(
      (file) => !file.startsWith(path.join("app", "api", "auth")),
    );
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const source = await fs.readFile(file, "utf8");
      const exported = METHODS.filter((method) => new RegExp(`export const ${method}\\b`).test(source));
      expect(exported.length, `${file} exports no handler`).toBeGreaterThan(0);
      for (const method of exported) {
        const registered = endpoints.some((e) => e.path === routePath(file) && e.method === method);
        expect(registered, `${method} ${routePath(file)} is not registered in lib/api/endpoints`).toBe(true);
        expect(source, `${file} must go through handle()`).toMatch(new RegExp(`export const ${method} = handle\\(`));
      }
    }
  });

  it("leaves caching to Next's default for route handlers: never cached, no route segment config", async () => {
    // Since Next 15 a route handler runs per request unless it opts into caching, so `dynamic = "force-dynamic"`
    // says nothing; `force-static` or `revalidate` would serve one caller's team-scoped answer to the next.
    for (const file of await routeFiles(path.join("app", "api"))) {
      const source = await fs.readFile(file, "utf8");
      expect(source, `${file} sets route segment config`).not.toMatch(/export const (dynamic|revalidate|fetchCache)\b/);
    }
  });

  it("describes the health answer from its zod schema", () => {
    const health = document.paths["/api/health"]?.get?.responses["200"] as {
      content: { "application/json": { schema: { properties: Record<string, unknown> } } };
    };
    expect(Object.keys(health.content["application/json"].schema.properties)).toEqual(["status", "checks"]);
  });
});
