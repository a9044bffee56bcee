import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "@/test/net";
import {
  type BuildPlan,
  detectPlan,
  fsSourceTree,
  memorySourceTree,
  PlanError,
  type PlanOverrides,
  planToJson,
  SourcePathError,
  scopedSourceTree,
} from "./plan";

const EXAMPLES = fileURLToPath(new URL("../../examples/", import.meta.url));
const DEFAULT = "3.12";

function plan(files: Record<string, string>, overrides?: PlanOverrides): Promise<BuildPlan> {
  return detectPlan(memorySourceTree(files), { defaultPythonVersion: DEFAULT, overrides });
}

async function planError(files: Record<string, string>, overrides?: PlanOverrides): Promise<PlanError> {
  const error = await plan(files, overrides).then(
    () => null,
    (caught: unknown) => caught,
  );
  if (!(error instanceof PlanError)) throw new Error(`expected a PlanError, got ${String(error)}`);
  return error;
}

const FLASK_APP = 'from flask import Flask\n\napp = Flask(__name__)\n\n@app.get("/")\ndef index():\n    return "hi"\n';
const FASTAPI_APP = "from fastapi import FastAPI\n\napp = FastAPI()\n";
const GUNICORN_WEB = (target: string) => `gunicorn ${target} --bind 0.0.0.0:$PORT`;
const UVICORN_WEB = (target: string) => `uvicorn ${target} --host 0.0.0.0 --port $PORT`;

describe("detectPlan on the example apps", () => {
  type ExampleCase = { dir: string; expected: Partial<BuildPlan>; reasons: RegExp[] };
  const cases: ExampleCase[] = [
    {
      dir: "flask-requirements",
      expected: {
        builder: "python",
        installer: "pip",
        installCommand: "pip install --no-cache-dir -r requirements.txt",
        pythonVersion: "3.13",
        processes: { web: GUNICORN_WEB("app:app") },
        release: null,
      },
      reasons: [/^requirements\.txt found: installing with pip$/, /Flask app object "app" found in app\.py/],
    },
    {
      dir: "fastapi-uv",
      expected: {
        builder: "python",
        installer: "uv",
        installCommand: "uv sync --locked --no-dev",
        pythonVersion: "3.12",
        processes: { web: UVICORN_WEB("main:app") },
        release: null,
      },
      reasons: [/^uv\.lock found: installing with uv$/, /^Python 3\.12 from \.python-version$/],
    },
    {
      dir: "django-procfile",
      expected: {
        builder: "python",
        installer: "pip",
        pythonVersion: "3.13",
        processes: { web: GUNICORN_WEB("mysite.wsgi:application") },
        release: "python manage.py migrate --noinput",
      },
      reasons: [/Procfile found/, /release command from the Procfile/],
    },
    {
      dir: "wsgi-stdlib",
      expected: {
        builder: "python",
        installer: "none",
        installCommand: null,
        pythonVersion: "3.13",
        processes: { web: "python3 server.py" },
        release: null,
      },
      // server.py reads $PORT itself, but the command does not say so: the plan warns without rewriting.
      reasons: [/no dependencies to install/, /warning: the web command does not mention \$PORT/],
    },
  ];

  it.each(cases)("$dir", async ({ dir, expected, reasons }) => {
    const result = await detectPlan(fsSourceTree(path.join(EXAMPLES, dir)), { defaultPythonVersion: "3.13" });
    expect(result).toMatchObject(expected);
    expect(result.containerfile).toBeUndefined();
    for (const reason of reasons)
      expect(result.reasons).toEqual(expect.arrayContaining([expect.stringMatching(reason)]));
  });

  it("finds no missing-server warning in the examples that declare their server", async () => {
    for (const dir of ["flask-requirements", "fastapi-uv"]) {
      const result = await detectPlan(fsSourceTree(path.join(EXAMPLES, dir)), { defaultPythonVersion: "3.13" });
      expect(result.reasons.filter((reason) => reason.startsWith("warning:"))).toEqual([]);
    }
  });
});

type PlanCase = {
  name: string;
  files: Record<string, string>;
  overrides?: PlanOverrides;
  expected: Partial<BuildPlan>;
  reasons?: RegExp[];
  absentReasons?: RegExp[];
};

const installerCases: PlanCase[] = [
  {
    name: "poetry.lock → poetry",
    files: {
      "pyproject.toml":
        '[tool.poetry]\nname = "shop"\n\n[tool.poetry.dependencies]\npython = "^3.11"\nflask = "^3.0"\ngunicorn = "*"\n',
      "poetry.lock": "# lock\n",
      "app.py": FLASK_APP,
    },
    expected: {
      installer: "poetry",
      installCommand: "poetry install --only main --no-root --no-interaction",
      pythonVersion: "3.12",
      processes: { web: GUNICORN_WEB("app:app") },
    },
    reasons: [
      /^poetry\.lock found: installing with poetry$/,
      /the default satisfies \[tool\.poetry\.dependencies\] python/,
    ],
    absentReasons: [/^warning:/],
  },
  {
    name: "Pipfile.lock → pipenv, server declared in the Pipfile",
    files: {
      Pipfile: '[packages]\nfastapi = "*"\nuvicorn = {extras = ["standard"], version = "*"}\n',
      "Pipfile.lock": "{}",
      "main.py": FASTAPI_APP,
    },
    expected: {
      installer: "pipenv",
      installCommand: "pipenv install --deploy --system",
      processes: { web: UVICORN_WEB("main:app") },
    },
    reasons: [/^Pipfile\.lock found: installing with pipenv$/],
    absentReasons: [/^warning:/],
  },
  {
    name: "Pipfile.lock without Pipfile warns",
    files: { "Pipfile.lock": "{}", "main.py": FASTAPI_APP },
    expected: { installer: "pipenv" },
    reasons: [/warning: Pipfile\.lock found without Pipfile/],
  },
  {
    name: "uv.lock wins over poetry.lock and requirements.txt",
    files: {
      "uv.lock": "version = 1\n",
      "poetry.lock": "",
      "requirements.txt": "flask\n",
      "pyproject.toml": '[project]\nname = "x"\ndependencies = ["flask", "gunicorn>=22"]\n',
      "app.py": FLASK_APP,
    },
    expected: { installer: "uv", installCommand: "uv sync --locked --no-dev" },
    // Two lock files are named in a warning (#20); requirements.txt beside a lock is a common export, not a conflict.
    reasons: [/^warning: several lock files found \(uv\.lock, poetry\.lock\): installing with uv\.lock/],
  },
  {
    name: "pyproject.toml alone → pip install of the project",
    files: {
      "pyproject.toml":
        '[project]\nname = "site"\nversion = "1.0"\ndependencies = [\n  "Flask>=3",\n  "gunicorn",\n]\n',
      "app.py": FLASK_APP,
    },
    expected: {
      installer: "pip",
      installCommand: "pip install --no-cache-dir .",
      processes: { web: GUNICORN_WEB("app:app") },
    },
    reasons: [/pyproject\.toml found without a lock file or requirements\.txt/],
    absentReasons: [/^warning:/],
  },
  {
    name: "requirements.txt without gunicorn still plans, with a warning",
    files: { "requirements.txt": "flask==3.0.3  # web framework\n-r base.txt\n", "app.py": FLASK_APP },
    expected: { installer: "pip", processes: { web: GUNICORN_WEB("app:app") } },
    reasons: [/warning: the web command runs gunicorn, but it is not listed in the dependencies/],
  },
  {
    name: "no dependency file at all",
    files: { "main.py": FASTAPI_APP },
    expected: { installer: "none", installCommand: null, processes: { web: UVICORN_WEB("main:app") } },
    reasons: [/warning: the web command runs uvicorn, but no dependency file was found/],
  },
];

const frameworkCases: PlanCase[] = [
  {
    name: "requirements + Flask app factory in app/",
    files: {
      "requirements.txt": "flask\ngunicorn\n",
      "app/__init__.py": "from flask import Flask\n\n\ndef create_app():\n    app = Flask(__name__)\n    return app\n",
      "app/views.py": "def index():\n    return 'hi'\n",
    },
    expected: { processes: { web: "gunicorn 'app:create_app()' --bind 0.0.0.0:$PORT" } },
    reasons: [/Flask app factory create_app\(\) found in app\/__init__\.py/],
  },
  {
    name: "FastAPI app factory → uvicorn --factory",
    files: {
      "requirements.txt": "fastapi\nuvicorn\n",
      "service.py": "from fastapi import FastAPI\n\ndef create_app():\n    return FastAPI()\n",
    },
    expected: { processes: { web: "uvicorn --factory service:create_app --host 0.0.0.0 --port $PORT" } },
  },
  {
    name: "Starlette app object in app/main.py",
    files: {
      "requirements.txt": "starlette\nuvicorn[standard]\n",
      "app/main.py": "from starlette.applications import Starlette\n\napplication = Starlette(routes=[])\n",
    },
    expected: { processes: { web: UVICORN_WEB("app.main:application") } },
    reasons: [/Starlette app object "application" found in app\/main\.py/],
    absentReasons: [/^warning:/],
  },
  {
    name: "FastAPI with an annotation and a qualified constructor",
    files: {
      "requirements.txt": "uvicorn\n",
      "api.py": "import fastapi\n\napi: fastapi.FastAPI = fastapi.FastAPI()\n",
    },
    expected: { processes: { web: UVICORN_WEB("api:api") } },
  },
  {
    name: "FastAPI in a src layout package",
    files: {
      "pyproject.toml": '[project]\nname = "shop"\ndependencies = ["fastapi", "uvicorn"]\n',
      "uv.lock": "version = 1\n",
      "src/shop/__init__.py": "",
      "src/shop/api.py": FASTAPI_APP,
    },
    expected: { processes: { web: "uvicorn shop.api:app --app-dir src --host 0.0.0.0 --port $PORT" } },
  },
  {
    name: "a top-level module is preferred over app/, and main.py over other names",
    files: {
      "requirements.txt": "fastapi\nuvicorn\n",
      "app/main.py": "from fastapi import FastAPI\ninner = FastAPI()\n",
      "zeta.py": "from fastapi import FastAPI\nzeta = FastAPI()\n",
      "main.py": FASTAPI_APP,
    },
    expected: { processes: { web: UVICORN_WEB("main:app") } },
  },
  {
    name: "FastAPI is looked for before Flask",
    files: {
      "requirements.txt": "",
      "app.py": FLASK_APP,
      "zapi.py": "from fastapi import FastAPI\nbackend = FastAPI()\n",
    },
    expected: { processes: { web: UVICORN_WEB("zapi:backend") } },
  },
  {
    name: "asgi.py exposing application",
    files: {
      "requirements.txt": "uvicorn\n",
      "asgi.py": "async def application(scope, receive, send):\n    pass\n",
    },
    expected: { processes: { web: UVICORN_WEB("asgi:application") } },
    reasons: [/asgi\.py exposes "application"/],
  },
  {
    name: "wsgi.py exposing app through an import",
    files: {
      "requirements.txt": "bottle\ngunicorn\n",
      "hello.py": "import bottle\napp = bottle.Bottle()\n",
      "wsgi.py": "from hello import app  # noqa\n",
    },
    expected: { processes: { web: GUNICORN_WEB("wsgi:app") } },
  },
  {
    name: "wsgi.py aliasing an import to application",
    files: { "wsgi.py": "from hello import make as application\n", "hello.py": "def make(e, s):\n    pass\n" },
    expected: { processes: { web: GUNICORN_WEB("wsgi:application") } },
  },
  {
    name: "Django without a Procfile: gunicorn on the wsgi module, migrate proposed as the release command",
    files: {
      "requirements.txt": "django\n",
      "manage.py": 'import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")\n',
      "mysite/__init__.py": "",
      "mysite/settings.py": "DEBUG = False\n",
      "mysite/wsgi.py": "application = None\n",
    },
    // #20: proposed as the peers do, visibly, and turned off with the djangoSetup app setting.
    expected: {
      processes: { web: GUNICORN_WEB("mysite.wsgi:application") },
      release: "python manage.py migrate --noinput",
    },
    reasons: [
      /Django project \(manage\.py, manage\.py uses mysite\.settings\)/,
      /^Django: release command `python manage\.py migrate --noinput` proposed/,
      /warning: the web command runs gunicorn, but it is not listed/,
    ],
  },
  {
    name: "Django with a nested settings module",
    files: {
      "requirements.txt": "django\ngunicorn\n",
      "manage.py": "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings.production')\n",
      "config/settings/production.py": "",
      "config/wsgi.py": "application = None\n",
      "other/wsgi.py": "application = None\n",
    },
    expected: { processes: { web: GUNICORN_WEB("config.wsgi:application") } },
  },
  {
    name: "Django wins over a FastAPI module",
    files: {
      "manage.py": "",
      "proj/settings.py": "",
      "proj/wsgi.py": "application = None\n",
      "main.py": FASTAPI_APP,
    },
    expected: { processes: { web: GUNICORN_WEB("proj.wsgi:application") } },
  },
  {
    name: "manage.py without a wsgi module falls through to other frameworks",
    files: { "manage.py": "", "main.py": FASTAPI_APP },
    expected: { processes: { web: UVICORN_WEB("main:app") } },
    reasons: [/manage\.py found but no <package>\/wsgi\.py/],
  },
  {
    name: "an app object inside a docstring or comment is not the app; test files are skipped",
    files: {
      "main.py": '"""Example:\n\napp = FastAPI()\n"""\n# app = FastAPI()\n',
      "test_main.py": FASTAPI_APP,
      "real.py": FLASK_APP,
    },
    expected: { processes: { web: GUNICORN_WEB("real:app") } },
  },
];

const procfileCases: PlanCase[] = [
  {
    name: "Procfile with worker, release, other processes and comments",
    files: {
      "requirements.txt": "gunicorn\n",
      Procfile: [
        "# processes for the shop",
        "",
        "worker: celery -A shop worker --loglevel=info",
        "web: gunicorn shop.wsgi --bind 0.0.0.0:$PORT --workers 3",
        "release: python manage.py migrate --noinput",
        "clock:python clock.py",
        "   # indented comment",
        "",
      ].join("\r\n"),
      "main.py": FASTAPI_APP,
    },
    expected: {
      processes: {
        web: "gunicorn shop.wsgi --bind 0.0.0.0:$PORT --workers 3",
        worker: "celery -A shop worker --loglevel=info",
        clock: "python clock.py",
      },
      release: "python manage.py migrate --noinput",
    },
    reasons: [/Procfile found: processes worker, web, clock/],
    absentReasons: [/FastAPI/, /PORT/],
  },
  {
    name: "Procfile without web: the framework provides web, worker is kept",
    files: { "requirements.txt": "fastapi\nuvicorn\n", Procfile: "worker: python worker.py\n", "main.py": FASTAPI_APP },
    expected: { processes: { web: UVICORN_WEB("main:app"), worker: "python worker.py" } },
    reasons: [/the Procfile has no web: line: looking for a framework/],
  },
  {
    name: "Procfile web command without PORT is kept verbatim, with a warning",
    files: { Procfile: "web: gunicorn app:app --bind 0.0.0.0:8000\n", "app.py": FLASK_APP },
    expected: { processes: { web: "gunicorn app:app --bind 0.0.0.0:8000" } },
    reasons: [/warning: the web command does not mention \$PORT/],
  },
  {
    name: "malformed Procfile lines are ignored with a note",
    files: {
      Procfile:
        "Web: gunicorn a:b\nnot a process line\nempty:\nweb: python3 server.py --port $PORT\nweb: python3 other.py $PORT\n",
    },
    expected: { processes: { web: "python3 other.py $PORT" } },
    reasons: [
      /line 1 ignored: process name "Web" must be lowercase/,
      /line 2 ignored: expected "name: command"/,
      /line 3 ignored: "empty:" has no command/,
      /line 5: "web" defined twice, the last one wins/,
    ],
  },
];

const containerCases: PlanCase[] = [
  {
    name: "Containerfile wins over Python manifests",
    files: {
      Containerfile: "FROM python:3.12-slim\n",
      "requirements.txt": "flask\n",
      "uv.lock": "",
      ".python-version": "pypy3.10\n",
      "app.py": FLASK_APP,
    },
    expected: {
      builder: "containerfile",
      containerfile: "Containerfile",
      installer: "none",
      installCommand: null,
      pythonVersion: DEFAULT,
      processes: {},
      release: null,
    },
    reasons: [/^Containerfile found at the root/, /the container runs the Containerfile CMD/],
  },
  {
    name: "Dockerfile wins, processes still come from the Procfile",
    files: {
      Dockerfile: "FROM python:3.12-slim\n",
      Procfile: "web: ./serve --port $PORT\nrelease: ./migrate\n",
      "main.py": FASTAPI_APP,
    },
    expected: {
      builder: "containerfile",
      containerfile: "Dockerfile",
      installer: "none",
      processes: { web: "./serve --port $PORT" },
      release: "./migrate",
    },
  },
  {
    name: "Containerfile takes precedence over Dockerfile",
    files: { Containerfile: "FROM a\n", Dockerfile: "FROM b\n" },
    expected: { builder: "containerfile", containerfile: "Containerfile" },
    reasons: [/Dockerfile ignored: Containerfile takes precedence/],
  },
];

const pythonVersionCases: PlanCase[] = [
  {
    name: ".python-version with a patch",
    files: { ".python-version": "3.11.4\n", "main.py": FASTAPI_APP },
    expected: { pythonVersion: "3.11" },
    reasons: [/^Python 3\.11 from \.python-version \(3\.11\.4\)$/],
  },
  {
    name: ".python-version skips comments and blank lines",
    files: { ".python-version": "# pinned\n\n3.13\n", "main.py": FASTAPI_APP },
    expected: { pythonVersion: "3.13" },
  },
  {
    name: "runtime.txt",
    files: { "runtime.txt": "python-3.10.12\n", "main.py": FASTAPI_APP },
    expected: { pythonVersion: "3.10" },
    reasons: [/from runtime\.txt \(python-3\.10\.12\)/],
  },
  {
    name: ".python-version beats runtime.txt and requires-python",
    files: {
      ".python-version": "3.11",
      "runtime.txt": "python-3.10.1",
      "pyproject.toml": '[project]\nrequires-python = ">=3.13"\n',
      "main.py": FASTAPI_APP,
    },
    expected: { pythonVersion: "3.11" },
    reasons: [/warning: Python 3\.11 from \.python-version does not satisfy requires-python ">=3\.13"/],
  },
  {
    name: "runtime.txt beats requires-python",
    files: {
      "runtime.txt": "python-3.13.0",
      "pyproject.toml": '[project]\nrequires-python = ">=3.10"\n',
      "main.py": FASTAPI_APP,
    },
    expected: { pythonVersion: "3.13" },
    absentReasons: [/does not satisfy/],
  },
  {
    name: "requires-python satisfied by the default",
    files: { "pyproject.toml": '[project]\nrequires-python = ">=3.10"\n', "main.py": FASTAPI_APP },
    expected: { pythonVersion: "3.12" },
    reasons: [/the default satisfies requires-python ">=3\.10"/],
  },
  {
    name: "requires-python above the default → lowest satisfying minor",
    files: { "pyproject.toml": "[project]\nrequires-python = '>=3.13'\n", "main.py": FASTAPI_APP },
    expected: { pythonVersion: "3.13" },
    reasons: [/the lowest version satisfying requires-python ">=3\.13" \(the default 3\.12 does not\)/],
  },
  {
    name: "requires-python ==3.11.*",
    files: { "pyproject.toml": '[project]\nrequires-python = "==3.11.*"\n', "main.py": FASTAPI_APP },
    expected: { pythonVersion: "3.11" },
  },
  {
    name: "requires-python ~=3.10",
    files: { "pyproject.toml": '[project]\nrequires-python = "~=3.10"\n', "main.py": FASTAPI_APP },
    expected: { pythonVersion: "3.12" },
  },
  {
    name: "requires-python ~=3.10.2 pins the series",
    files: { "pyproject.toml": '[project]\nrequires-python = "~=3.10.2"\n', "main.py": FASTAPI_APP },
    expected: { pythonVersion: "3.10" },
  },
  {
    name: "requires-python range below the default",
    files: { "pyproject.toml": '[project]\nrequires-python = ">= 3.10, <3.12"\n', "main.py": FASTAPI_APP },
    expected: { pythonVersion: "3.10" },
  },
  {
    name: "requires-python with an exclusion",
    files: { "pyproject.toml": '[project]\nrequires-python = "<3.12,!=3.9.*"\n', "main.py": FASTAPI_APP },
    expected: { pythonVersion: "3.10" },
  },
  {
    name: "requires-python >3.12 is met by 3.12 patch releases",
    files: { "pyproject.toml": '[project]\nrequires-python = ">3.12"\n', "main.py": FASTAPI_APP },
    expected: { pythonVersion: "3.12" },
  },
  {
    name: "requires-python <3.12.0 excludes 3.12",
    files: { "pyproject.toml": '[project]\nrequires-python = ">=3.11,<3.12.0"\n', "main.py": FASTAPI_APP },
    expected: { pythonVersion: "3.11" },
  },
  {
    name: "requires-python not understood → default with a note",
    files: { "pyproject.toml": '[project]\nrequires-python = ">=3.10rc1"\n', "main.py": FASTAPI_APP },
    expected: { pythonVersion: "3.12" },
    reasons: [/requires-python ">=3\.10rc1" not understood: ignoring it/, /the platform default/],
  },
  {
    name: "poetry python constraint ~3.10",
    files: { "pyproject.toml": '[tool.poetry.dependencies]\npython = "~3.10"\n', "main.py": FASTAPI_APP },
    expected: { pythonVersion: "3.10" },
  },
  {
    name: "[project] requires-python beats the poetry constraint",
    files: {
      "pyproject.toml": '[project]\nrequires-python = ">=3.11"\n\n[tool.poetry.dependencies]\npython = "~3.10"\n',
      "main.py": FASTAPI_APP,
    },
    expected: { pythonVersion: "3.12" },
  },
  {
    name: "a table header inside a multi-line string does not confuse the TOML reader",
    files: {
      "pyproject.toml":
        '[project]\nname = "x"\ndescription = """\n[project]\nrequires-python = "<3"\n"""\nrequires-python = ">=3.13" # newest\n',
      "main.py": FASTAPI_APP,
    },
    expected: { pythonVersion: "3.13" },
  },
  {
    name: "an unparsable pyproject.toml is reported and ignored",
    files: { "pyproject.toml": "[project\nname = \n", "main.py": FASTAPI_APP },
    expected: { pythonVersion: "3.12", installer: "pip" },
    reasons: [/^pyproject\.toml could not be parsed \(line 1: /],
  },
  {
    name: "an empty .python-version is ignored",
    files: { ".python-version": "\n", "runtime.txt": "python-3.11.9", "main.py": FASTAPI_APP },
    expected: { pythonVersion: "3.11" },
    reasons: [/\.python-version is empty/],
  },
];

const overrideCases: PlanCase[] = [
  {
    name: "every part overridden",
    files: {
      "requirements.txt": "flask\ngunicorn\n",
      ".python-version": "3.13",
      Procfile: "web: gunicorn app:app --bind 0.0.0.0:$PORT\nworker: python w.py\nrelease: ./old-release\n",
      "app.py": FLASK_APP,
    },
    overrides: {
      pythonVersion: "3.11",
      install: "pip install -r requirements/prod.txt",
      web: "gunicorn app:app --bind 0.0.0.0:$PORT --workers 4",
      release: "python manage.py migrate",
    },
    expected: {
      pythonVersion: "3.11",
      installCommand: "pip install -r requirements/prod.txt",
      processes: { web: "gunicorn app:app --bind 0.0.0.0:$PORT --workers 4", worker: "python w.py" },
      release: "python manage.py migrate",
    },
    reasons: [
      /^Python version overridden in app settings: 3\.11$/,
      /^install command overridden in app settings$/,
      /^web command overridden in app settings$/,
      /^release command overridden in app settings$/,
    ],
  },
  {
    name: "release null disables the Procfile release, an invalid .python-version is not read when overridden",
    files: { Procfile: "web: x $PORT\nrelease: y\n", ".python-version": "system" },
    overrides: { release: null, pythonVersion: "3.10.4" },
    expected: { release: null, pythonVersion: "3.10", processes: { web: "x $PORT" } },
    reasons: [/^release command disabled in app settings$/],
  },
  {
    name: "a web override rescues a project with no detectable web process",
    files: { "requirements.txt": "aiohttp\n", "serve.py": "print('hi')\n" },
    overrides: { web: "python serve.py" },
    expected: { processes: { web: "python serve.py" } },
    reasons: [/^web command overridden in app settings$/, /warning: the web command does not mention \$PORT/],
  },
  {
    name: "an empty install override disables the install step",
    files: { "requirements.txt": "flask\n", "app.py": FLASK_APP },
    overrides: { install: "  " },
    expected: { installer: "pip", installCommand: null },
    reasons: [/^install step disabled in app settings$/],
  },
  {
    name: "install override is ignored for a Containerfile build",
    files: { Containerfile: "FROM x\n" },
    overrides: { install: "make deps" },
    expected: { builder: "containerfile", installCommand: null },
    reasons: [/install command override ignored/],
  },
];

describe.each([
  ["installer", installerCases],
  ["framework", frameworkCases],
  ["Procfile", procfileCases],
  ["Containerfile", containerCases],
  ["Python version", pythonVersionCases],
  ["overrides", overrideCases],
] as const)("detectPlan: %s", (_group, cases) => {
  it.each(cases)("$name", async ({ files, overrides, expected, reasons = [], absentReasons = [] }) => {
    const result = await plan(files, overrides);
    expect(result).toMatchObject(expected);
    if (expected.processes) expect(result.processes).toEqual(expected.processes);
    for (const reason of reasons)
      expect(result.reasons).toEqual(expect.arrayContaining([expect.stringMatching(reason)]));
    for (const reason of absentReasons) expect(result.reasons.filter((r) => reason.test(r))).toEqual([]);
    if (result.builder === "python") {
      expect(result.containerfile).toBeUndefined();
      expect(Object.keys(result.processes)[0]).toBe("web");
    }
  });
});

describe("detectPlan: process types (#15)", () => {
  it("accepts a worker-only Procfile: no web process, no address", async () => {
    const result = await plan({ Procfile: "worker: python w.py\nbot: python bot.py\n" });
    expect(result.processes).toEqual({ worker: "python w.py", bot: "python bot.py" });
    expect(result.reasons).toEqual(expect.arrayContaining([expect.stringMatching(/no web process: the app has no/)]));
  });

  it("adds and overrides process types from app settings, web first", async () => {
    const result = await plan(
      { Procfile: "web: gunicorn a:b --bind :$PORT\nworker: celery -A a worker\n" },
      { processes: { worker: "celery -A a worker -c 2", clock: "python clock.py" } },
    );
    expect(result.processes).toEqual({
      web: "gunicorn a:b --bind :$PORT",
      worker: "celery -A a worker -c 2",
      clock: "python clock.py",
    });
    expect(Object.keys(result.processes)[0]).toBe("web");
    expect(result.reasons).toEqual(
      expect.arrayContaining([expect.stringMatching(/^process types overridden in app settings: worker, clock$/)]),
    );
  });

  it("makes a settings-only worker app valid and refuses control characters in a process override", async () => {
    expect((await plan({ "w.py": "" }, { processes: { worker: "python w.py" } })).processes).toEqual({
      worker: "python w.py",
    });
    expect((await planError({ "w.py": "" }, { processes: { worker: "a\u0007b" } })).code).toBe("invalid_override");
  });

  it("ignores Procfile process types that cannot name a container, with a note", async () => {
    const result = await plan({ Procfile: "web: x $PORT\n1worker: python w.py\n" });
    expect(result.processes).toEqual({ web: "x $PORT" });
    expect(result.reasons).toEqual(expect.arrayContaining([expect.stringMatching(/"1worker" ignored/)]));
  });
});

describe("detectPlan failures", () => {
  it("explains everything it looked for when no web process is found", async () => {
    const error = await planError({ "requirements.txt": "requests\n", "util.py": "def helper():\n    return 1\n" });
    expect(error.code).toBe("no_plan");
    for (const needle of [
      "Procfile",
      "web:",
      "manage.py",
      "FastAPI",
      "Starlette",
      "Flask",
      "wsgi.py",
      "asgi.py",
      "Containerfile",
      "Dockerfile",
    ]) {
      expect(error.message).toContain(needle);
    }
  });

  it("fails on an empty tree", async () => {
    expect((await planError({})).code).toBe("no_plan");
  });

  it.each([["pypy3.10"], ["system"], ["2.7.18"], ["3"], ["3.12-dev"], ["cpython@3.12"], ["3.12.1rc1"], ["4.0"]])(
    ".python-version %j is refused",
    async (value) => {
      const error = await planError({ ".python-version": `${value}\n`, "main.py": FASTAPI_APP });
      expect(error.code).toBe("invalid_python_version");
      expect(error.message).toContain(".python-version");
      expect(error.message).toContain(JSON.stringify(value));
    },
  );

  it.each([["python-2.7.18"], ["3.11.4"], ["pypy3.10-7.3"]])("runtime.txt %j is refused", async (value) => {
    const error = await planError({ "runtime.txt": value, "main.py": FASTAPI_APP });
    expect(error.code).toBe("invalid_python_version");
    expect(error.message).toContain("runtime.txt");
  });

  it("refuses requires-python that no supported version satisfies", async () => {
    const error = await planError({
      "pyproject.toml": '[project]\nrequires-python = "<3.0"\n',
      "main.py": FASTAPI_APP,
    });
    expect(error.code).toBe("invalid_python_version");
    expect(error.message).toMatch(/requires-python "<3\.0" is not satisfied by any supported Python version \(3\.9, /);
  });

  it.each([
    [{ pythonVersion: "latest" }, "invalid_python_version"],
    [{ web: "" }, "invalid_override"],
    [{ web: "gunicorn app:app\nrm -rf /" }, "invalid_override"],
    [{ release: "migrate\u0000" }, "invalid_override"],
  ] as const)("refuses the override %j", async (overrides, code) => {
    expect((await planError({ "app.py": FLASK_APP }, overrides)).code).toBe(code);
  });

  it("treats an invalid platform default as a configuration bug", async () => {
    await expect(detectPlan(memorySourceTree({}), { defaultPythonVersion: "latest" })).rejects.toThrow(RangeError);
  });
});

describe("commands only carry validated names", () => {
  it.each([
    ["a file name that is not a Python module", { "my-app.py": FLASK_APP, "1st.py": FASTAPI_APP }],
    ["a keyword file name", { "class.py": FASTAPI_APP }],
    // server.py, not main.py: a main.py is a script entry point (#20) and would be started as `python main.py`.
    ["a non-identifier app name", { "server.py": "app$x = FastAPI()\n`id` = Flask(__name__)\n" }],
    ["an indented app object", { "server.py": "if True:\n    app = FastAPI()\n" }],
    ["a package directory that is not an identifier", { "app/my-mod.py": FASTAPI_APP, "src/a b/main.py": FASTAPI_APP }],
    [
      "a Django package with an invalid settings module",
      { "manage.py": "'DJANGO_SETTINGS_MODULE', 'x;y.settings'", "x;y/wsgi.py": "" },
    ],
  ])("ignores %s", async (_label, files) => {
    expect((await planError(files)).code).toBe("no_plan");
  });
});

describe("planToJson", () => {
  it("keeps exactly the public keys, in order", async () => {
    const result = await plan({ Dockerfile: "FROM x\n", Procfile: "web: x $PORT\n" });
    expect(result.containerfile).toBe("Dockerfile");
    const json = planToJson(result);
    expect(Object.keys(json)).toEqual(["builder", "installer", "pythonVersion", "processes", "release", "reasons"]);
    expect(JSON.parse(JSON.stringify(json))).toEqual({
      builder: "containerfile",
      installer: "none",
      pythonVersion: DEFAULT,
      processes: { web: "x $PORT" },
      release: null,
      reasons: result.reasons,
    });
  });
});

describe("memorySourceTree", () => {
  const tree = memorySourceTree({ "a.txt": "A", "pkg/mod.py": "M", "pkg/sub/deep.py": "D" });

  it("reads, lists and checks existence", async () => {
    expect(await tree.readFile("a.txt")).toBe("A");
    expect(await tree.readFile("./pkg//mod.py")).toBe("M");
    expect(await tree.readFile("pkg")).toBeNull();
    expect(await tree.readFile("missing")).toBeNull();
    expect(await tree.exists("pkg")).toBe(true);
    expect(await tree.exists("pkg/sub/deep.py")).toBe(true);
    expect(await tree.exists("pk")).toBe(false);
    expect(await tree.list("")).toEqual(["a.txt", "pkg"]);
    expect(await tree.list(".")).toEqual(["a.txt", "pkg"]);
    expect(await tree.list("pkg")).toEqual(["mod.py", "sub"]);
    expect(await tree.list("a.txt")).toEqual([]);
  });

  it.each([["../x"], ["/etc/passwd"], ["pkg/../../x"], ["pkg\\..\\x"], ["a\u0000b"]])("refuses %j", async (bad) => {
    await expect(tree.readFile(bad)).rejects.toThrow(SourcePathError);
    await expect(tree.exists(bad)).rejects.toThrow(SourcePathError);
    await expect(tree.list(bad)).rejects.toThrow(SourcePathError);
  });

  it("scopes to a subdirectory and refuses one escaping the tree", async () => {
    const scoped = scopedSourceTree(tree, "pkg");
    expect(await scoped.readFile("mod.py")).toBe("M");
    expect(await scoped.list("")).toEqual(["mod.py", "sub"]);
    await expect(scoped.readFile("../a.txt")).rejects.toThrow(SourcePathError);
    expect(() => scopedSourceTree(tree, "../other-app")).toThrow(SourcePathError);
    expect(() => scopedSourceTree(tree, "/srv/app")).toThrow(SourcePathError);
  });
});

describe("fsSourceTree", () => {
  let base: string;
  let root: string;

  beforeAll(async () => {
    base = await mkdtemp(path.join(os.tmpdir(), "tussilago-plan-"));
    root = path.join(base, "app");
    const outside = path.join(base, "outside");
    await mkdir(path.join(root, "pkg"), { recursive: true });
    await mkdir(outside);
    await writeFile(path.join(outside, "secret.txt"), "top secret");
    await writeFile(path.join(root, "requirements.txt"), "flask\ngunicorn\n");
    await writeFile(path.join(root, "pkg", "mod.py"), "x = 1\n");
    await writeFile(path.join(root, "big.txt"), "x".repeat(2048));
    await symlink(path.join(outside, "secret.txt"), path.join(root, "leak.txt"));
    await symlink("../outside", path.join(root, "outdir"));
    await symlink("requirements.txt", path.join(root, "inner-link.txt"));
    await symlink("pkg", path.join(root, "pkg-link"));
    await symlink("does-not-exist", path.join(root, "dangling"));
    // A manifest that is a link out of the tree must not be read, even when it is the file the planner wants.
    await mkdir(path.join(root, "hostile"));
    await symlink(path.join(outside, "secret.txt"), path.join(root, "hostile", "Procfile"));
    await writeFile(path.join(root, "hostile", "app.py"), FLASK_APP);
  });

  afterAll(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it("reads regular files and links that stay inside the tree", async () => {
    const tree = fsSourceTree(root);
    expect(await tree.readFile("requirements.txt")).toBe("flask\ngunicorn\n");
    expect(await tree.readFile("inner-link.txt")).toBe("flask\ngunicorn\n");
    expect(await tree.readFile("pkg-link/mod.py")).toBe("x = 1\n");
    expect(await tree.readFile("pkg")).toBeNull();
    expect(await tree.readFile("missing.txt")).toBeNull();
    expect(await tree.readFile("requirements.txt/child")).toBeNull();
    expect(await tree.exists("pkg")).toBe(true);
    expect(await tree.list("pkg")).toEqual(["mod.py"]);
  });

  it("does not follow symbolic links out of the tree", async () => {
    const tree = fsSourceTree(root);
    expect(await tree.readFile("leak.txt")).toBeNull();
    expect(await tree.exists("leak.txt")).toBe(false);
    expect(await tree.readFile("outdir/secret.txt")).toBeNull();
    expect(await tree.exists("outdir")).toBe(false);
    expect(await tree.list("outdir")).toEqual([]);
    expect(await tree.exists("dangling")).toBe(false);
    const listing = await tree.list("");
    expect(listing).not.toContain("leak.txt");
    expect(listing).not.toContain("outdir");
    expect(listing).not.toContain("dangling");
    expect(listing).toEqual(expect.arrayContaining(["requirements.txt", "inner-link.txt", "pkg", "pkg-link"]));
  });

  it.each([["../outside/secret.txt"], ["/etc/passwd"], ["pkg/../../outside/secret.txt"], [".."]])(
    "refuses %j",
    async (bad) => {
      const tree = fsSourceTree(root);
      await expect(tree.readFile(bad)).rejects.toThrow(SourcePathError);
      await expect(tree.exists(bad)).rejects.toThrow(SourcePathError);
      await expect(tree.list(bad)).rejects.toThrow(SourcePathError);
    },
  );

  it("treats files over the read limit as unreadable", async () => {
    expect(await fsSourceTree(root, { maxFileBytes: 1024 }).readFile("big.txt")).toBeNull();
    expect(await fsSourceTree(root).readFile("big.txt")).toHaveLength(2048);
  });

  it("plans a tree whose Procfile links out of it as if there were no Procfile", async () => {
    const result = await detectPlan(fsSourceTree(path.join(root, "hostile")), { defaultPythonVersion: DEFAULT });
    expect(result.processes).toEqual({ web: GUNICORN_WEB("app:app") });
    expect(result.reasons.join("\n")).not.toContain("top secret");
  });
});

const hasPython = spawnSync("python3", ["--version"]).status === 0;

describe.skipIf(!hasPython)("examples/wsgi-stdlib runs with nothing but python3", () => {
  let child: ChildProcess | undefined;

  afterAll(() => {
    child?.kill("SIGTERM");
  });

  it("answers /healthz on $PORT", async () => {
    const port = await freePort();
    child = spawn("python3", ["server.py"], {
      cwd: path.join(EXAMPLES, "wsgi-stdlib"),
      // No bytecode files in the example directory, and no user site-packages: the standard library only.
      env: { ...process.env, PORT: String(port), PYTHONDONTWRITEBYTECODE: "1", PYTHONNOUSERSITE: "1" },
      stdio: "ignore",
    });
    let response: Response | undefined;
    for (let attempt = 0; attempt < 50 && response === undefined; attempt++) {
      response = await fetch(`http://127.0.0.1:${port}/healthz`).catch(async () => {
        await new Promise((resolve) => setTimeout(resolve, 100));
        return undefined;
      });
    }
    expect(response?.status).toBe(200);
    expect(await response?.text()).toBe("ok\n");
    const missing = await fetch(`http://127.0.0.1:${port}/nope`);
    expect(missing.status).toBe(404);
  });
});
