import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { renderContainerfile } from "../containerfile";
import { type BuildPlan, detectPlan, fsSourceTree, PlanError, type PlanOverrides } from "../plan";

// Table-driven plans of the fixture projects in test/fixtures/plans (issue #20): each case is a directory shaped
// like the public fixtures of Heroku's Python buildpack, Railpack and Nixpacks, with the plan we expect for it.
const FIXTURES = fileURLToPath(new URL("../../../test/fixtures/plans/", import.meta.url));
const DEFAULT = "3.12";

function planOf(dir: string, overrides?: PlanOverrides): Promise<BuildPlan> {
  return detectPlan(fsSourceTree(`${FIXTURES}${dir}`), { defaultPythonVersion: DEFAULT, overrides });
}

type Case = { dir: string; expected: Partial<BuildPlan>; reasons: RegExp[] };

async function planFailure(dir: string): Promise<PlanError> {
  const error = await planOf(dir).then(
    () => null,
    (caught: unknown) => caught,
  );
  if (!(error instanceof PlanError)) throw new Error(`expected a PlanError, got ${String(error)}`);
  return error;
}

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

describe("Pipenv", () => {
  const cases: Case[] = [
    {
      dir: "pipenv-lock-version",
      expected: { installer: "pipenv", installCommand: "pipenv install --deploy --system", pythonVersion: "3.11" },
      reasons: [/^Python 3\.11 from Pipfile\.lock python_full_version \("3\.11\.9"\)/],
    },
    {
      dir: "pipenv-no-lock",
      expected: { installer: "pipenv", installCommand: "pipenv install --system --skip-lock", pythonVersion: "3.10" },
      reasons: [
        /^warning: Pipfile found without Pipfile\.lock: installing with pipenv --skip-lock/,
        /^Python 3\.10 from Pipfile python_full_version/,
      ],
    },
  ];
  it.each(cases)("$dir", async ({ dir, expected, reasons }) => {
    const plan = await planOf(dir);
    expect(plan).toMatchObject(expected);
    expectReasons(plan, reasons);
  });

  it("copies only the Pipfile into the dependency layer when there is no lock", async () => {
    const text = renderContainerfile(await planOf("pipenv-no-lock"), {
      baseImage: "python:3.10",
      pyprojectOnly: false,
    });
    expect(text).toContain('COPY --chown=app:app ["Pipfile", "/app/"]');
    expect(text).toContain('RUN ["/bin/sh","-c","pipenv install --system --skip-lock"]');
  });

  it("refuses an invalid Pipfile.lock, naming it", async () => {
    const error = await planFailure("pipenv-invalid-lock");
    expect(error.code).toBe("no_plan");
    expect(error.message).toMatch(/^Pipfile\.lock is not valid JSON/);
  });
});

describe("pdm, .tool-versions and mise.toml", () => {
  const cases: Case[] = [
    {
      dir: "pdm-lock",
      expected: { installer: "pdm", installCommand: "pdm sync --prod --no-self", pythonVersion: "3.12" },
      reasons: [/^pdm\.lock found: installing with pdm$/],
    },
    {
      dir: "tool-versions",
      expected: { installer: "pip", pythonVersion: "3.11" },
      reasons: [/^Python 3\.11 from \.tool-versions \("3\.11\.4"; the first of several\)/],
    },
    {
      dir: "mise-toml",
      expected: { pythonVersion: "3.13" },
      reasons: [/^Python 3\.13 from mise\.toml \[tools\] python/],
    },
    {
      dir: "mise-toml-list",
      expected: { pythonVersion: "3.10", processes: { worker: "python main.py" } },
      reasons: [/^Python 3\.10 from \.mise\.toml \[tools\] python \("3\.10"; the first of several\)/],
    },
  ];
  it.each(cases)("$dir", async ({ dir, expected, reasons }) => {
    const plan = await planOf(dir);
    expect(plan).toMatchObject(expected);
    expectReasons(plan, reasons);
  });

  it("installs pdm and copies pdm.lock into the dependency layer", async () => {
    const text = renderContainerfile(await planOf("pdm-lock"), { baseImage: "python:3.12", pyprojectOnly: false });
    expect(text).toContain('RUN ["/bin/sh","-c","pip install pdm"]');
    expect(text).toContain('COPY --chown=app:app ["pyproject.toml", "pdm.lock", "/app/"]');
  });
});

describe("Python version files and conflicting package managers", () => {
  const cases: Case[] = [
    {
      dir: "version-eol-warn",
      expected: { pythonVersion: "3.9" },
      reasons: [
        /^warning: Python 3\.9 reached end of life/,
        /^warning: runtime\.txt pins 3\.9\.18; the build uses the newest 3\.9 patch release/,
      ],
    },
    {
      dir: "version-several",
      expected: { pythonVersion: "3.12" },
      reasons: [/^warning: several versions in \.python-version \(3\.12, 3\.11\): using the first$/],
    },
    {
      dir: "version-empty",
      expected: { pythonVersion: DEFAULT },
      reasons: [/^warning: \.python-version is empty: ignoring it$/],
    },
    {
      dir: "version-unknown-patch",
      expected: { pythonVersion: "3.12" },
      reasons: [/^warning: \.python-version pins 3\.12\.99; the build uses the newest 3\.12 patch release/],
    },
    {
      dir: "two-locks",
      expected: { installer: "uv" },
      reasons: [
        /^warning: several lock files found \(uv\.lock, poetry\.lock\): installing with uv\.lock; delete the others$/,
      ],
    },
  ];
  it.each(cases)("$dir", async ({ dir, expected, reasons }) => {
    const plan = await planOf(dir);
    expect(plan).toMatchObject(expected);
    expectReasons(plan, reasons);
  });

  it.each([
    ["version-eol", /^Python 3\.8 from \.python-version reached end of life and is not supported/],
    ["version-unknown-minor", /^Python 3\.31 from \.python-version is not a known Python release/],
    [
      "runtime-with-uv",
      /^runtime\.txt is not read by uv, which installs this app \(uv\.lock\): move the version to \.python-version/,
    ],
  ])("refuses %s", async (dir, message) => {
    const error = await planFailure(dir);
    expect(error.code).toBe("invalid_python_version");
    expect(error.message).toMatch(message);
  });
});

describe("framework detection", () => {
  const uvicorn = (target: string) => `uvicorn ${target} --host 0.0.0.0 --port $PORT`;
  const cases: Case[] = [
    {
      dir: "flask-no-gunicorn",
      expected: { processes: { web: "gunicorn app:app --bind 0.0.0.0:$PORT" } },
      reasons: [/^gunicorn is not a dependency: the platform installs it into the image/],
    },
    {
      dir: "fasthtml",
      expected: { processes: { web: uvicorn("main:app") } },
      reasons: [/^FastHTML app object "app" found in main\.py: serving it with uvicorn/],
    },
    {
      dir: "litestar",
      expected: { processes: { web: uvicorn("app:app") } },
      reasons: [/^Litestar app object "app" found in app\.py/],
    },
    {
      dir: "starlette",
      expected: { processes: { web: uvicorn("server:app") } },
      reasons: [/^Starlette app object "app" found in server\.py/],
    },
    {
      dir: "flask-factory",
      expected: { processes: { web: "gunicorn 'myapp:create_app()' --bind 0.0.0.0:$PORT" } },
      reasons: [/^Flask app factory create_app\(\) found in myapp\/__init__\.py/],
    },
    {
      dir: "django-subfolder",
      expected: { processes: { web: "gunicorn mysite.wsgi:application --chdir backend --bind 0.0.0.0:$PORT" } },
      reasons: [/^Django project in backend\/ \(manage\.py, manage\.py uses mysite\.settings\)/],
    },
  ];
  it.each(cases)("$dir", async ({ dir, expected, reasons }) => {
    const plan = await planOf(dir);
    expect(plan).toMatchObject(expected);
    expectReasons(plan, reasons);
    expect(plan.reasons.filter((line) => /is not a dependency|not listed in the dependencies/.test(line))).toHaveLength(
      dir === "flask-no-gunicorn" ? 1 : 0,
    );
  });

  it("installs a server the app does not list into the image, and only then", async () => {
    const added = renderContainerfile(await planOf("flask-no-gunicorn"), {
      baseImage: "python:3.12",
      pyprojectOnly: false,
    });
    expect(added).toContain('RUN ["/bin/sh","-c","pip install gunicorn"]');
    const listed = renderContainerfile(await planOf("litestar"), { baseImage: "python:3.12", pyprojectOnly: false });
    expect(listed).not.toContain("pip install uvicorn");
  });
});

describe("Django: release command and collectstatic", () => {
  it("proposes migrate as the release command and collectstatic at build time, in the reasons", async () => {
    const plan = await planOf("django-setup");
    expect(plan.release).toBe("python manage.py migrate --noinput");
    expect(plan.collectstatic).toBe("python manage.py collectstatic --noinput");
    expectReasons(plan, [
      /^Django: release command `python manage\.py migrate --noinput` proposed/,
      /^Django: `python manage\.py collectstatic --noinput` runs at build time \(STATIC_ROOT is set in shop\/settings\.py\)/,
    ]);
    const text = renderContainerfile(plan, { baseImage: "python:3.12", pyprojectOnly: false });
    expect(text).toContain('RUN ["/bin/sh","-c","python manage.py collectstatic --noinput"]');
    expect(text.indexOf("collectstatic")).toBeGreaterThan(text.indexOf("COPY --chown=app:app . /app"));
  });

  it("is turned off by the app setting", async () => {
    const plan = await planOf("django-setup", { djangoSetup: false });
    expect(plan.release).toBeNull();
    expect(plan.collectstatic).toBeUndefined();
    expectReasons(plan, [/^Django: migrate and collectstatic turned off in app settings/]);
    expect(renderContainerfile(plan, { baseImage: "python:3.12", pyprojectOnly: false })).not.toContain(
      "collectstatic",
    );
  });

  it("runs manage.py from the subdirectory and skips collectstatic without STATIC_ROOT", async () => {
    const plan = await planOf("django-subfolder");
    expect(plan.release).toBe("python backend/manage.py migrate --noinput");
    expect(plan.collectstatic).toBeUndefined();
    expectReasons(plan, [/^Django: collectstatic not run: no STATIC_ROOT in backend\/mysite\/settings/]);
  });
});
