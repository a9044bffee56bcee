// `prisma generate` without network access or a database: Prisma 6 insists on resolving the datasource URL
// even though generation never connects, so give it a placeholder when none is set.
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const cli = require.resolve("prisma/build/index.js");
execFileSync(process.execPath, [cli, "generate"], {
  stdio: "inherit",
  timeout: 120_000,
  env: {
    ...process.env,
    DATABASE_URL: process.env.DATABASE_URL ?? "postgresql://placeholder@localhost/placeholder",
    CHECKPOINT_DISABLE: "1",
    PRISMA_HIDE_UPDATE_MESSAGE: "1",
  },
});
