import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { declaredErrorCodes } from "@/lib/api/declared-errors";
import { endpoints } from "@/lib/api/endpoints";
import { buildOpenApiDocument } from "@/lib/api/openapi";
import { PERMISSIONS } from "@/lib/auth/permissions";
import { getEnv } from "@/lib/env";
import { ERROR_STATUS } from "@/lib/errors";

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

type Operation = {
  operationId: string;
  parameters?: { name: string; in: string; required?: boolean }[];
  responses: Record<string, unknown>;
  "x-required-scope"?: string;
  "x-required-role"?: string;
};
type ErrorResponse = {
  "x-error-codes"?: string[];
  headers?: Record<string, unknown>;
  content?: { "application/json"?: { schema?: { $ref?: string } } };
};

describe("OpenAPI document", () => {
  const document = buildOpenApiDocument() as {
    openapi: string;
    servers?: { url: string }[];
    paths: Record<string, Record<string, Operation>>;
  };
  const operationOf = (endpoint: (typeof endpoints)[number]) =>
    document.paths[endpoint.path]?.[endpoint.method.toLowerCase()] as Operation;

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
      // The catch-all answers unknown paths (404) and is no operation of the API.
      if (file.includes("[...path]")) continue;
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

  it("names the server: the platform's public URL (TUSSILAGO_PUBLIC_URL)", () => {
    expect(document.servers).toEqual([{ url: getEnv().publicUrl }]);
  });

  it("declares every error code an operation can answer, each under its status with the error body", () => {
    for (const endpoint of endpoints) {
      // Domain refusals are declared per endpoint (possibly none): the handler checks answers against them.
      expect(endpoint.errors, `${endpoint.id} declares no errors list`).toBeDefined();
      const responses = operationOf(endpoint).responses as Record<string, ErrorResponse>;
      for (const code of declaredErrorCodes(endpoint)) {
        const response = responses[String(ERROR_STATUS[code])];
        expect(response?.["x-error-codes"], `${endpoint.id}: ${code}`).toContain(code);
        expect(response?.content?.["application/json"]?.schema?.$ref, `${endpoint.id}: ${code}`).toBe(
          "#/components/schemas/Error",
        );
      }
      // And nothing else: an error status the server cannot answer is not documented.
      const statuses = new Set(declaredErrorCodes(endpoint).map((code) => String(ERROR_STATUS[code])));
      for (const status of Object.keys(responses).filter((status) => Number(status) >= 400)) {
        if (status in endpoint.responses) continue;
        expect(statuses, `${endpoint.id} documents ${status}`).toContain(status);
      }
    }
  });

  it("documents 404 for a body's foreign appId, 409 on a taken name, 415 on JSON bodies and Retry-After on 503", () => {
    const byId = (id: string) => operationOf(endpoints.find((endpoint) => endpoint.id === id) as never).responses;
    expect(byId("createDatabase")).toHaveProperty("404");
    expect(byId("createRedis")).toHaveProperty("404");
    expect(byId("updateApp")).toHaveProperty("409");
    expect(byId("putAppEnv")).toHaveProperty("409");
    expect(byId("createUpload")).toHaveProperty("415");
    expect(byId("createUpload")).toHaveProperty("422");
    for (const endpoint of endpoints.filter((endpoint) => endpoint.body)) {
      expect(operationOf(endpoint).responses, endpoint.id).toHaveProperty("415");
    }
    for (const endpoint of endpoints.filter((endpoint) => endpoint.auth !== "public")) {
      const unavailable = operationOf(endpoint).responses["503"] as ErrorResponse;
      expect(unavailable?.headers, endpoint.id).toHaveProperty("Retry-After");
    }
  });

  it("states the scope and the role each operation needs, as the endpoint declares them", () => {
    for (const endpoint of endpoints) {
      const operation = operationOf(endpoint);
      if (endpoint.auth === "public") {
        expect(operation["x-required-scope"]).toBeUndefined();
        continue;
      }
      expect(operation["x-required-scope"], endpoint.id).toBe(endpoint.auth.scope);
      expect(operation["x-required-role"], endpoint.id).toBe(PERMISSIONS[endpoint.auth.permission]);
    }
    const invitations = document.paths["/api/v1/invitations"]?.get;
    expect(invitations?.["x-required-role"]).toBe("admin");
  });

  it("documents Idempotency-Key on exactly the operations that honour it", () => {
    for (const endpoint of endpoints) {
      const header = operationOf(endpoint).parameters?.find(
        (parameter) => parameter.in === "header" && parameter.name === "Idempotency-Key",
      );
      expect(Boolean(header), endpoint.id).toBe(endpoint.idempotent === true);
    }
    expect(endpoints.filter((endpoint) => endpoint.idempotent).length).toBeGreaterThan(0);
  });
});
