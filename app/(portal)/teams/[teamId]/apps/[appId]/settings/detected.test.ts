// The settings page's "Detected: …" lines (#18 point 5): the latest deployment that stored a plan, with the source
// it was built from; none before the first plan; another team's app shows nothing.
import { describe, expect, it } from "vitest";
import { latestDetected } from "@/app/(portal)/teams/[teamId]/apps/[appId]/settings/detected";
import { getDb } from "@/lib/db";
import { createApp } from "@/lib/domain/apps";
import { createTestTeam, createTestUser, userCtx } from "@/test/factories";

const PLAN = {
  builder: "python",
  installer: "uv",
  pythonVersion: "3.12",
  processes: { web: "gunicorn app:app" },
  release: "python manage.py migrate",
  reasons: ["uv.lock: uv"],
};

describe("latestDetected", () => {
  it("reads the newest stored plan and its source, skipping deployments without one", async () => {
    const owner = await createTestUser();
    const team = await createTestTeam(owner.id);
    const ctx = await userCtx(owner.id, team.id);
    const app = await createApp(getDb(), ctx, { name: "web" });
    expect(await latestDetected(getDb(), ctx, app.id)).toBeNull();

    const base = { appId: app.id, teamId: team.id };
    await getDb().deployment.create({
      data: { ...base, number: 1, sourceType: "upload", status: "running", plan: PLAN },
    });
    await getDb().deployment.create({
      data: {
        ...base,
        number: 2,
        sourceType: "git",
        gitUrl: "https://example.com/acme/web.git",
        gitRef: "main",
        status: "superseded",
        plan: { ...PLAN, processes: { web: "uvicorn app:app" } },
      },
    });
    // A build that failed before planning stores no plan: the page keeps showing #2's.
    await getDb().deployment.create({ data: { ...base, number: 3, sourceType: "upload", status: "failed" } });

    expect(await latestDetected(getDb(), ctx, app.id)).toEqual({
      deploymentNumber: 2,
      source: { type: "git", url: "https://example.com/acme/web.git", ref: "main" },
      plan: { ...PLAN, processes: { web: "uvicorn app:app" } },
    });

    const stranger = await createTestUser();
    const otherTeam = await createTestTeam(stranger.id);
    expect(await latestDetected(getDb(), await userCtx(stranger.id, otherTeam.id), app.id)).toBeNull();
  });
});
