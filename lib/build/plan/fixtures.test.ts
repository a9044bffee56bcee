import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { type BuildPlan, detectPlan, fsSourceTree } from "../plan";

// Table-driven plans of the fixture projects in test/fixtures/plans (issue #20): each case is a directory shaped
// like the public fixtures of Heroku's Python buildpack, Railpack and Nixpacks, with the plan we expect for it.
const FIXTURES = fileURLToPath(new URL("../../../test/fixtures/plans/", import.meta.url));
const DEFAULT = "3.12";

function planOf(dir: string): Promise<BuildPlan> {
  return detectPlan(fsSourceTree(`${FIXTURES}${dir}`), { defaultPythonVersion: DEFAULT });
}

type Case = { dir: string; expected: Partial<BuildPlan>; reasons: RegExp[] };

function expectReasons(plan: BuildPlan, reasons: RegExp[]): void {
  for (const reason of reasons)
    expect(
      plan.reasons.some((line) => reason.test(line)),
      String(reason),
    ).toBe(true);
}

describe("apps without a web server: script entry points", () => {
  const cases: Case[] = [
    {
      dir: "script-main-worker",
      expected: { processes: { worker: "python main.py" }, release: null },
      reasons: [/^main\.py found: starting the app with `python main\.py`/, /does not serve \$PORT: a worker process/],
    },
    {
      dir: "script-bot-worker",
      expected: { processes: { worker: "python bot.py" } },
      reasons: [/^bot\.py found/],
    },
    {
      dir: "script-app-web",
      expected: { processes: { web: "python app.py" } },
      reasons: [/app\.py reads PORT or binds 0\.0\.0\.0: a web process/],
    },
    {
      dir: "script-project-scripts",
      expected: {
        installer: "pip",
        processes: { web: 'python -c "import sys; from ticker.cli import main; sys.exit(main())"' },
      },
      reasons: [/\[project\.scripts\] entry "ticker" \(ticker\.cli:main\)/, /ticker\/cli\.py reads PORT/],
    },
    {
      dir: "script-dunder-main",
      expected: { processes: { worker: "python -m mybot" } },
      reasons: [/mybot\/__main__\.py found: starting the app with `python -m mybot`/],
    },
  ];
  it.each(cases)("$dir", async ({ dir, expected, reasons }) => {
    const plan = await planOf(dir);
    expect(plan).toMatchObject(expected);
    expectReasons(plan, reasons);
  });
});
