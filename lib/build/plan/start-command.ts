import { isDottedModuleName, isPythonIdentifier } from "../framework";
import { isTomlTable, type TomlTable, tomlGet } from "../mini-toml";
import type { SourceTree } from "../source-tree";

/**
 * Apps without a web framework (bots, workers, scripts, stdlib servers): the start command comes from a script
 * entry point, as the peers (Railpack, Nixpacks) do, instead of refusing the app. Looked for in this order:
 * 1. the first `[project.scripts]` entry of pyproject.toml (`name = "pkg.module:function"`);
 * 2. a package with a `__main__.py` at the root or under src/ (`python -m <package>`);
 * 3. main.py, app.py, bot.py at the root (`python <file>`).
 * The process is `web` when the entry file serves $PORT (see `servesPort`), otherwise `worker`.
 * Commands are built only from validated identifiers and fixed file names, never from file content.
 */

export type ScriptEntry = { process: "web" | "worker"; command: string; reasons: string[] };

const SCRIPT_FILES = ["main.py", "app.py", "bot.py"];
const SCRIPT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/**
 * The heuristic for "serves $PORT": code (comments and docstrings stripped) that reads PORT from the environment
 * (`os.environ["PORT"]`, `os.environ.get("PORT")`, `os.getenv("PORT")`) or binds every interface ("0.0.0.0").
 * A script that does neither cannot receive routed traffic, so it runs as a worker.
 */
export function servesPort(source: string): boolean {
  const code = source
    .replace(/"""[\s\S]*?"""|'''[\s\S]*?'''/g, "")
    .split("\n")
    .map((line) => (line.trimStart().startsWith("#") ? "" : line))
    .join("\n");
  return /(?:environ(?:\.get)?\s*[[(]\s*|getenv\s*\(\s*)["']PORT["']|["']0\.0\.0\.0["']/.test(code);
}

async function classify(tree: SourceTree, entryFile: string, command: string, why: string): Promise<ScriptEntry> {
  const source = (await tree.readFile(entryFile)) ?? "";
  const web = servesPort(source);
  return {
    process: web ? "web" : "worker",
    command,
    reasons: [
      `${why}: starting the app with \`${command}\``,
      web
        ? `${entryFile} reads PORT or binds 0.0.0.0: a web process`
        : `${entryFile} does not serve $PORT: a worker process (add a Procfile web: line if it does serve HTTP)`,
    ],
  };
}

/** Where a module's source is: pkg/mod.py or pkg/mod/__init__.py, at the root or under src/. */
async function moduleFile(tree: SourceTree, module: string): Promise<{ file: string; src: boolean } | null> {
  const base = module.split(".").join("/");
  for (const prefix of ["", "src/"]) {
    for (const file of [`${prefix}${base}.py`, `${prefix}${base}/__init__.py`]) {
      if (await tree.exists(file)) return { file, src: prefix !== "" };
    }
  }
  return null;
}

async function fromProjectScripts(tree: SourceTree, pyproject: TomlTable | null): Promise<ScriptEntry | null> {
  const scripts = pyproject ? tomlGet(pyproject, ["project", "scripts"]) : undefined;
  if (!isTomlTable(scripts)) return null;
  for (const [name, target] of Object.entries(scripts)) {
    if (!SCRIPT_NAME.test(name) || typeof target !== "string") continue;
    const match = /^\s*([A-Za-z_][\w.]*)\s*:\s*([A-Za-z_]\w*)\s*$/.exec(target);
    const module = match?.[1];
    const fn = match?.[2];
    if (!module || !fn || !isDottedModuleName(module) || !isPythonIdentifier(fn)) continue;
    const found = await moduleFile(tree, module);
    if (found === null) continue;
    // Calling the function directly works whether or not the installer installed the project's scripts.
    const path = found.src ? "PYTHONPATH=src " : "";
    const command = `${path}python -c "import sys; from ${module} import ${fn}; sys.exit(${fn}())"`;
    return classify(tree, found.file, command, `[project.scripts] entry "${name}" (${module}:${fn}) found`);
  }
  return null;
}

async function fromDunderMain(tree: SourceTree): Promise<ScriptEntry | null> {
  for (const prefix of ["", "src/"]) {
    const names = (await tree.list(prefix === "" ? "" : "src")).filter(isPythonIdentifier).sort();
    for (const pkg of names) {
      const file = `${prefix}${pkg}/__main__.py`;
      if (!(await tree.exists(file))) continue;
      const command = `${prefix === "" ? "" : "PYTHONPATH=src "}python -m ${pkg}`;
      return classify(tree, file, command, `${file} found`);
    }
  }
  return null;
}

export async function detectScriptEntry(tree: SourceTree, pyproject: TomlTable | null): Promise<ScriptEntry | null> {
  const declared = (await fromProjectScripts(tree, pyproject)) ?? (await fromDunderMain(tree));
  if (declared) return declared;
  for (const file of SCRIPT_FILES) {
    if (await tree.exists(file)) return classify(tree, file, `python ${file}`, `${file} found`);
  }
  return null;
}
