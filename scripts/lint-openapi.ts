// `npm run lint:openapi`: generates the OpenAPI document from the endpoint registry (as GET /api/v1/openapi.json
// serves it) into a temporary file and lints it with Redocly CLI's `recommended` rules (redocly.yaml). Offline:
// telemetry and update checks are off, and nothing is fetched (the document has no external $ref).
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { buildOpenApiDocument } from "@/lib/api/openapi";
import { CommandError, execFileExecutor } from "@/lib/infra/exec";

const REDOCLY_CLI = path.resolve("node_modules", "@redocly", "cli", "bin", "cli.js");

async function main(): Promise<number> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "tussilago-openapi-"));
  try {
    const file = path.join(dir, "openapi.json");
    // A fixed server URL: the document's shape does not depend on the installation's address.
    await fs.writeFile(file, `${JSON.stringify(buildOpenApiDocument("https://tussilago.example.org"), null, 2)}\n`);
    const result = await execFileExecutor(
      process.execPath,
      [REDOCLY_CLI, "lint", file, "--config", path.resolve("redocly.yaml"), "--format", "codeframe"],
      {
        timeoutMs: 120_000,
        env: {
          PATH: process.env.PATH ?? "",
          HOME: process.env.HOME ?? dir,
          REDOCLY_TELEMETRY: "off",
          REDOCLY_SUPPRESS_UPDATE_NOTICE: "true",
          NO_COLOR: "1",
        },
        okExitCodes: [0, 1],
      },
    );
    process.stdout.write(result.stdout);
    process.stderr.write(result.stderr);
    return result.exitCode;
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof CommandError ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
