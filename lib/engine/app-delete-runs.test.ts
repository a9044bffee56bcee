// Deleting an app removes the output of its runs from the data directory, like its build and runtime logs.

import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { expect, it } from "vitest";
import { runLogPath } from "@/lib/data-paths";
import { getDb } from "@/lib/db";
import { createApp } from "@/lib/domain/apps";
import { createOperation } from "@/lib/domain/operations";
import { deleteApp } from "@/lib/engine/app-delete";
import { routingConfigFromEnv } from "@/lib/engine/routing";
import { getEnv } from "@/lib/env";
import { createTestTeam, createTestUser, userCtx } from "@/test/factories";
import { silentLog } from "@/test/release-helpers";

it("removes the app's run logs", async () => {
  const user = await createTestUser();
  const team = await createTestTeam(user.id);
  const app = await createApp(getDb(), await userCtx(user.id, team.id), {
    name: `web-${randomBytes(3).toString("hex")}`,
  });
  const run = await getDb().run.create({
    data: { appId: app.id, teamId: team.id, kind: "oneoff", command: "env", status: "succeeded", timeoutSeconds: 60 },
  });
  const file = runLogPath(getEnv().dataDir, run.id);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, "SECRET=printed by the tenant\n");
  await getDb().app.update({ where: { id: app.id }, data: { status: "deleting" } });
  const operation = await createOperation(getDb(), { kind: "app.delete", teamId: team.id });
  await deleteApp(
    {
      db: getDb(),
      log: silentLog,
      caddy: () => {
        throw new Error("a never-released app has no route");
      },
      podman: () => null,
      routing: routingConfigFromEnv(),
      dataDir: getEnv().dataDir,
    },
    { operationId: operation.id, appId: app.id },
  );
  expect(await getDb().app.findUnique({ where: { id: app.id } })).toBe(null);
  await expect(fs.access(file)).rejects.toThrow();
});
