import { type SourceTree, scopedSourceTree } from "./source-tree";

/**
 * Finds a web command for a Python project without a Procfile `web:` line, by recognising the framework.
 * Everything that ends up in a command comes from file names or identifiers matched by strict patterns
 * (validated Python dotted names), never from raw file content.
 */

export type WebServer = "gunicorn" | "uvicorn";

export type WebDetection = {
  framework: "django" | "fastapi" | "starlette" | "litestar" | "fasthtml" | "flask" | "wsgi" | "asgi";
  server: WebServer;
  command: string;
  /** Why this command, for the plan's reasons. */
  reason: string;
  /** Django only: the directory holding manage.py, when not the root. */
  subdirectory?: string;
};

export type WebDetectionResult = { detection: WebDetection | null; notes: string[] };

/** Written down for the PlanError message: what a project must have for the plan to find its web process. */
export const LOOKED_FOR = [
  "a Procfile with a web: line",
  "a Django manage.py with a <package>/wsgi.py, at the root or in a subdirectory",
  "a FastAPI/Starlette/Litestar/FastHTML app object (name = FastAPI(...)) in a top-level module, a top-level package, app/ or src/",
  "a Flask app object (name = Flask(__name__)) or a create_app() factory",
  "a wsgi.py/asgi.py exposing application or app",
  "a script entry point ([project.scripts], a package with __main__.py, main.py, app.py or bot.py)",
  "a Containerfile/Dockerfile",
];

const PYTHON_KEYWORDS = new Set(
  (
    "False None True and as assert async await break class continue def del elif else except finally for from " +
    "global if import in is lambda nonlocal not or pass raise return try while with yield"
  ).split(" "),
);

/** ASCII-only on purpose: Python accepts Unicode identifiers, but look-alike characters have no place in commands. */
export function isPythonIdentifier(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]{0,99}$/.test(name) && !PYTHON_KEYWORDS.has(name);
}

export function isDottedModuleName(name: string): boolean {
  return name.split(".").every(isPythonIdentifier);
}

/** "app/main.py" → "app.main", "pkg/__init__.py" → "pkg"; null when a segment is not a valid identifier. */
export function moduleNameForPath(relPath: string): string | null {
  const segments = relPath.split("/");
  const last = segments.pop();
  if (last === undefined || !last.endsWith(".py")) return null;
  const stem = last.slice(0, -3);
  if (stem !== "__init__") segments.push(stem);
  if (segments.length === 0) return null;
  const name = segments.join(".");
  return isDottedModuleName(name) ? name : null;
}

function gunicorn(target: string, pythonPath: string | null): string {
  const path = pythonPath ? ` --pythonpath ${pythonPath}` : "";
  return `gunicorn ${target}${path} --bind 0.0.0.0:$PORT`;
}

function uvicorn(target: string, appDir: string | null, factory = false): string {
  const dir = appDir ? ` --app-dir ${appDir}` : "";
  return `uvicorn ${factory ? "--factory " : ""}${target}${dir} --host 0.0.0.0 --port $PORT`;
}

/** Removes comments and triple-quoted strings so an example in a docstring is not taken for the real app. */
function stripNonCode(source: string): string {
  return source
    .replace(/"""[\s\S]*?"""|'''[\s\S]*?'''/g, "")
    .split("\n")
    .map((line) => (line.trimStart().startsWith("#") ? "" : line))
    .join("\n");
}

function findAssignment(code: string, className: AppClass): string | null {
  // Module level only (column 0): `name = FastAPI(`, `name: FastAPI = fastapi.FastAPI(`.
  const pattern = new RegExp(
    `^([A-Za-z_][A-Za-z0-9_]*)[ \\t]*(?::[^=\\n]+)?=[ \\t]*(?:[A-Za-z_][\\w.]*\\.)?${className}\\(`,
    "gm",
  );
  for (const match of code.matchAll(pattern)) {
    const name = match[1] ?? "";
    if (isPythonIdentifier(name)) return name;
  }
  return null;
}

type AppClass = "FastAPI" | "Starlette" | "Litestar" | "FastHTML" | "Flask";

/** FastHTML's usual `app, rt = fast_app()`: the first name of the module-level tuple is the ASGI app. */
function findFastApp(code: string): string | null {
  const match =
    /^([A-Za-z_][A-Za-z0-9_]*)[ \t]*,[ \t]*[A-Za-z_][A-Za-z0-9_]*[ \t]*=[ \t]*(?:[A-Za-z_][\w.]*\.)?fast_app\(/m.exec(
      code,
    );
  const name = match?.[1];
  return name && isPythonIdentifier(name) ? name : null;
}

type Candidate = { relPath: string; module: string; pythonPath: string | null; group: number };

const PREFERRED_STEMS = ["main", "app", "application", "server", "api", "asgi", "wsgi", "web", "__init__"];
const SKIPPED_FILES = new Set(["setup.py", "conftest.py", "manage.py", "noxfile.py", "fabfile.py"]);
/** Bounds the work on a hostile tree with thousands of modules. */
const MAX_SCANNED_FILES = 200;

function isScannable(name: string): boolean {
  return name.endsWith(".py") && !SKIPPED_FILES.has(name) && !name.startsWith("test_") && !name.endsWith("_test.py");
}

function rank(candidate: Candidate): [number, number, string] {
  const stem = candidate.relPath.split("/").pop()?.replace(/\.py$/, "") ?? "";
  const preferred = PREFERRED_STEMS.indexOf(stem);
  return [candidate.group, preferred < 0 ? PREFERRED_STEMS.length : preferred, candidate.relPath];
}

async function pythonFiles(tree: SourceTree, dir: string): Promise<string[]> {
  return (await tree.list(dir)).filter(isScannable).map((name) => (dir === "" ? name : `${dir}/${name}`));
}

/** Top-level modules, then app/ and src/ modules, then src-layout packages (src/<pkg>/...). */
async function scanCandidates(tree: SourceTree): Promise<Candidate[]> {
  const candidates: Candidate[] = [];
  const add = (relPath: string, group: number, stripPrefix: string | null): void => {
    const modulePath = stripPrefix ? relPath.slice(stripPrefix.length + 1) : relPath;
    const module = moduleNameForPath(modulePath);
    if (module) candidates.push({ relPath, module, pythonPath: stripPrefix, group });
  };
  for (const relPath of await pythonFiles(tree, "")) add(relPath, 0, null);
  for (const dir of ["app", "src"]) for (const relPath of await pythonFiles(tree, dir)) add(relPath, 1, null);
  for (const pkg of await tree.list("src")) {
    if (!isPythonIdentifier(pkg)) continue;
    for (const relPath of await pythonFiles(tree, `src/${pkg}`)) add(relPath, 2, "src");
  }
  // Other top-level packages (myapp/__init__.py with a create_app() factory is the usual Flask layout).
  for (const pkg of (await tree.list("")).sort()) {
    if (pkg === "app" || pkg === "src" || !isPythonIdentifier(pkg)) continue;
    if (!(await tree.exists(`${pkg}/__init__.py`))) continue;
    for (const relPath of await pythonFiles(tree, pkg)) add(relPath, 3, null);
  }
  // Deterministic order: the same tree always yields the same command, whatever order the directory lists in.
  return candidates
    .sort((a, b) => {
      const [groupA, stemA, pathA] = rank(a);
      const [groupB, stemB, pathB] = rank(b);
      return groupA - groupB || stemA - stemB || (pathA < pathB ? -1 : pathA > pathB ? 1 : 0);
    })
    .slice(0, MAX_SCANNED_FILES);
}

/** A directory name that may appear in a command (`--chdir <dir>`): no leading dash, no shell syntax. */
const SUBDIR = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/;

/**
 * Django projects kept in a subdirectory (backend/manage.py): the first such directory in name order, served
 * with gunicorn --chdir so the settings package imports as it does from manage.py.
 */
async function detectDjangoInSubdirectory(tree: SourceTree, notes: string[]): Promise<WebDetection | null> {
  for (const dir of (await tree.list("")).sort()) {
    if (!SUBDIR.test(dir) || dir.includes("..") || !(await tree.exists(`${dir}/manage.py`))) continue;
    const found = await detectDjango(scopedSourceTree(tree, dir), notes);
    if (found === null) continue;
    return {
      ...found,
      command: found.command.replace(" --bind ", ` --chdir ${dir} --bind `),
      reason: found.reason.replace(/^Django project/, `Django project in ${dir}/`),
      subdirectory: dir,
    };
  }
  return null;
}

async function detectDjango(tree: SourceTree, notes: string[]): Promise<WebDetection | null> {
  const manage = await tree.readFile("manage.py");
  if (manage === null) return null;
  const settingsMatch = /DJANGO_SETTINGS_MODULE["']\s*,\s*["']([A-Za-z_][A-Za-z0-9_.]*)["']/.exec(manage);
  const settingsModule = settingsMatch?.[1];
  const packages: string[] = [];
  if (settingsModule && isDottedModuleName(settingsModule)) {
    const pkg = settingsModule.split(".")[0] ?? "";
    if (await tree.exists(`${pkg}/wsgi.py`)) packages.push(pkg);
  }
  if (packages.length === 0) {
    for (const name of await tree.list("")) {
      if (!isPythonIdentifier(name) || !(await tree.exists(`${name}/wsgi.py`))) continue;
      if ((await tree.exists(`${name}/settings.py`)) || (await tree.exists(`${name}/settings`))) packages.push(name);
    }
  }
  const pkg = packages[0];
  if (pkg === undefined) {
    notes.push("manage.py found but no <package>/wsgi.py next to a settings module: not treated as a Django project");
    return null;
  }
  if (packages.length > 1) notes.push(`several Django packages have a wsgi.py (${packages.join(", ")}): using ${pkg}`);
  const how = settingsModule?.startsWith(`${pkg}.`) ? `manage.py uses ${settingsModule}` : `${pkg}/settings found`;
  return {
    framework: "django",
    server: "gunicorn",
    command: gunicorn(`${pkg}.wsgi:application`, null),
    reason: `Django project (manage.py, ${how}): serving ${pkg}/wsgi.py with gunicorn`,
  };
}

type ScannedModule = Candidate & { code: string };

const ASGI_FRAMEWORKS = {
  FastAPI: "fastapi",
  Starlette: "starlette",
  Litestar: "litestar",
  FastHTML: "fasthtml",
} as const;

function detectAsgiFramework(modules: ScannedModule[]): WebDetection | null {
  for (const module of modules) {
    for (const framework of ["FastAPI", "Starlette", "Litestar", "FastHTML"] as const) {
      const name =
        findAssignment(module.code, framework) ?? (framework === "FastHTML" ? findFastApp(module.code) : null);
      if (name === null) continue;
      return {
        framework: ASGI_FRAMEWORKS[framework],
        server: "uvicorn",
        command: uvicorn(`${module.module}:${name}`, module.pythonPath),
        reason: `${framework} app object "${name}" found in ${module.relPath}: serving it with uvicorn`,
      };
    }
  }
  return null;
}

function detectFlask(modules: ScannedModule[]): WebDetection | null {
  for (const module of modules) {
    const name = findAssignment(module.code, "Flask");
    if (name === null) continue;
    return {
      framework: "flask",
      server: "gunicorn",
      command: gunicorn(`${module.module}:${name}`, module.pythonPath),
      reason: `Flask app object "${name}" found in ${module.relPath}: serving it with gunicorn`,
    };
  }
  return null;
}

function detectFactory(modules: ScannedModule[]): WebDetection | null {
  for (const module of modules) {
    if (!/^def[ \t]+create_app[ \t]*\(/m.test(module.code)) continue;
    // The factory itself says nothing about the framework; what the module builds does.
    if (/\b(FastAPI|Starlette)\(/.test(module.code)) {
      return {
        framework: /\bFastAPI\(/.test(module.code) ? "fastapi" : "starlette",
        server: "uvicorn",
        command: uvicorn(`${module.module}:create_app`, module.pythonPath, true),
        reason: `ASGI app factory create_app() found in ${module.relPath}: serving it with uvicorn --factory`,
      };
    }
    if (/\bFlask\(/.test(module.code)) {
      return {
        framework: "flask",
        server: "gunicorn",
        command: gunicorn(`'${module.module}:create_app()'`, module.pythonPath),
        reason: `Flask app factory create_app() found in ${module.relPath}: serving it with gunicorn`,
      };
    }
  }
  return null;
}

/** The name a wsgi.py/asgi.py binds at module level, preferring `application` over `app`. */
function exposedName(code: string): string | null {
  const bound = new Set<string>();
  for (const match of code.matchAll(/^(?:async[ \t]+)?def[ \t]+([A-Za-z_]\w*)[ \t]*\(/gm)) bound.add(match[1] ?? "");
  for (const match of code.matchAll(/^([A-Za-z_]\w*)[ \t]*(?::[^=\n]+)?=(?!=)/gm)) bound.add(match[1] ?? "");
  for (const match of code.matchAll(/^from[ \t]+[\w.]+[ \t]+import[ \t]+(\([^)]*\)|[^\n]*)/gm)) {
    for (const item of (match[1] ?? "").replace(/[()]/g, "").split(",")) {
      const parts = item.trim().split(/\s+/);
      bound.add((parts[1] === "as" ? parts[2] : parts[0]) ?? "");
    }
  }
  if (bound.has("application")) return "application";
  if (bound.has("app")) return "app";
  return null;
}

async function detectEntryModule(tree: SourceTree, notes: string[]): Promise<WebDetection | null> {
  for (const kind of ["wsgi", "asgi"] as const) {
    const source = await tree.readFile(`${kind}.py`);
    if (source === null) continue;
    const name = exposedName(stripNonCode(source));
    if (name === null) {
      notes.push(`${kind}.py found but it defines neither "application" nor "app"`);
      continue;
    }
    return {
      framework: kind,
      server: kind === "wsgi" ? "gunicorn" : "uvicorn",
      command: kind === "wsgi" ? gunicorn(`wsgi:${name}`, null) : uvicorn(`asgi:${name}`, null),
      reason: `${kind}.py exposes "${name}": serving it with ${kind === "wsgi" ? "gunicorn" : "uvicorn"}`,
    };
  }
  return null;
}

export async function detectWebProcess(tree: SourceTree): Promise<WebDetectionResult> {
  const notes: string[] = [];
  const django = (await detectDjango(tree, notes)) ?? (await detectDjangoInSubdirectory(tree, notes));
  if (django) return { detection: django, notes };

  const modules: ScannedModule[] = [];
  for (const candidate of await scanCandidates(tree)) {
    const source = await tree.readFile(candidate.relPath);
    if (source !== null) modules.push({ ...candidate, code: stripNonCode(source) });
  }
  const detection =
    detectAsgiFramework(modules) ??
    detectFlask(modules) ??
    detectFactory(modules) ??
    (await detectEntryModule(tree, notes));
  return { detection, notes };
}
