import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runPlanCommand } from "./plan-command";

const EXAMPLES = fileURLToPath(new URL("../../examples/", import.meta.url));

describe("runPlanCommand", () => {
  let empty: string;

  beforeAll(async () => {
    empty = await mkdtemp(path.join(os.tmpdir(), "tussilago-plan-command-"));
    await writeFile(path.join(empty, "notes.txt"), "nothing to run here\n");
  });

  afterAll(async () => {
    await rm(empty, { recursive: true, force: true });
  });

  it("prints the JSON plan with exactly the public keys", async () => {
    const result = await runPlanCommand(path.join(EXAMPLES, "fastapi-uv"), {
      json: true,
      defaultPythonVersion: "3.13",
    });
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toBe("");
    const parsed = JSON.parse(result.stdout);
    expect(Object.keys(parsed)).toEqual(["builder", "installer", "pythonVersion", "processes", "release", "reasons"]);
    expect(parsed).toMatchObject({
      builder: "python",
      installer: "uv",
      pythonVersion: "3.12",
      processes: { web: "uvicorn main:app --host 0.0.0.0 --port $PORT" },
      release: null,
    });
  });

  it("prints a readable plan without --json", async () => {
    const result = await runPlanCommand(path.join(EXAMPLES, "django-procfile"), {
      json: false,
      defaultPythonVersion: "3.12",
    });
    expect(result.exitCode).toBe(0);
    const lines = result.stdout.split("\n");
    expect(lines).toContain("installer:        pip (pip install --no-cache-dir -r requirements.txt)");
    expect(lines).toContain("process web:      gunicorn mysite.wsgi:application --bind 0.0.0.0:$PORT");
    expect(lines).toContain("release:          python manage.py migrate --noinput");
    expect(lines).toContain("  - requirements.txt found: installing with pip");
  });

  it("shows the build steps the platform adds: a missing server and Django's collectstatic (#20)", async () => {
    const fixtures = fileURLToPath(new URL("../../test/fixtures/plans/", import.meta.url));
    const django = await runPlanCommand(path.join(fixtures, "django-setup"), {
      json: false,
      defaultPythonVersion: "3.12",
    });
    expect(django.stdout.split("\n")).toContain("build step:       python manage.py collectstatic --noinput");
    const flask = await runPlanCommand(path.join(fixtures, "flask-no-gunicorn"), {
      json: false,
      defaultPythonVersion: "3.12",
    });
    expect(flask.stdout.split("\n")).toContain("build step:       pip install gunicorn (not in the dependencies)");
  });

  it("exits 1 with what was looked for when there is no plan", async () => {
    const text = await runPlanCommand(empty, { json: false, defaultPythonVersion: "3.12" });
    expect(text.exitCode).toBe(1);
    expect(text.stdout).toBe("");
    expect(text.stderr).toMatch(/^plan: could not find how to start this app\. Looked for: .*Procfile.*manage\.py/);

    const json = await runPlanCommand(empty, { json: true, defaultPythonVersion: "3.12" });
    expect(json.exitCode).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({
      error: { code: "no_plan", message: expect.stringContaining("wsgi.py") },
    });
  });

  it("exits 2 when the directory does not exist or is a file", async () => {
    const missing = await runPlanCommand(path.join(empty, "missing"), { json: false, defaultPythonVersion: "3.12" });
    expect(missing).toMatchObject({ exitCode: 2, stdout: "" });
    expect(missing.stderr).toContain("does not exist");
    const file = await runPlanCommand(path.join(empty, "notes.txt"), { json: true, defaultPythonVersion: "3.12" });
    expect(file.exitCode).toBe(2);
    expect(JSON.parse(file.stdout).error.code).toBe("not_a_directory");
  });
});
