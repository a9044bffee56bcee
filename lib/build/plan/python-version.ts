import { isTomlTable, parseToml, TomlError, type TomlTable, tomlGet } from "../mini-toml";
import {
  type Clause,
  PYTHON_MINOR_CANDIDATES,
  parsePoetryConstraint,
  parseSpecifierSet,
  resolveMinorVersion,
  toMinorVersion,
} from "../python-version";
import type { SourceTree } from "../source-tree";
import { PlanError, quote } from "./types";

// Which Python minor series the image uses, from the version files and manifests (first match wins).

function firstMeaningfulLine(text: string): string | null {
  for (const line of text.split("\n")) {
    const trimmed = line.trim();
    if (trimmed !== "" && !trimmed.startsWith("#")) return trimmed;
  }
  return null;
}

function describeRange(defaultVersion: string): string {
  const all = [...new Set([...PYTHON_MINOR_CANDIDATES, defaultVersion])];
  return all.sort((a, b) => Number(a.split(".")[1]) - Number(b.split(".")[1])).join(", ");
}

function fromConstraint(
  source: string,
  raw: string,
  clauses: Clause[] | null,
  defaultVersion: string,
  reasons: string[],
): string | null {
  if (clauses === null) {
    reasons.push(`${source} ${quote(raw)} not understood: ignoring it`);
    return null;
  }
  const chosen = resolveMinorVersion(clauses, defaultVersion);
  if (chosen === null) {
    throw new PlanError(
      `${source} ${quote(raw)} is not satisfied by any supported Python version (${describeRange(defaultVersion)})`,
      "invalid_python_version",
    );
  }
  reasons.push(
    chosen === defaultVersion
      ? `Python ${chosen}: the default satisfies ${source} ${quote(raw)}`
      : `Python ${chosen}: the lowest version satisfying ${source} ${quote(raw)} ` +
          `(the default ${defaultVersion} does not)`,
  );
  return chosen;
}

/** A pinned version that contradicts requires-python is the tenant's call, but worth pointing out. */
function checkAgainstRequiresPython(version: string, source: string, pyproject: TomlTable | null, reasons: string[]) {
  const requiresPython = pyproject ? tomlGet(pyproject, ["project", "requires-python"]) : undefined;
  if (typeof requiresPython !== "string") return;
  const clauses = parseSpecifierSet(requiresPython);
  if (clauses !== null && resolveMinorVersion(clauses, version, []) === null) {
    reasons.push(`warning: Python ${version} from ${source} does not satisfy requires-python ${quote(requiresPython)}`);
  }
}

/** A pin from a version-manager file; several versions: the first is the one that tool activates. */
function managerPin(source: string, versions: string[], reasons: string[]): string | null {
  const first = versions[0];
  if (first === undefined) return null;
  const minor = toMinorVersion(first);
  if (minor === null) {
    throw new PlanError(
      `${source} asks for Python ${quote(first)}; expected a CPython version such as 3.12 or 3.12.4`,
      "invalid_python_version",
    );
  }
  const note = versions.length > 1 ? `${quote(first)}; the first of several` : quote(first);
  reasons.push(`Python ${minor} from ${source} (${note})`);
  return minor;
}

/** asdf's .tool-versions: `python 3.12.1 3.11.0` lines; the first version listed is the active one. */
async function toolVersionsPin(tree: SourceTree, reasons: string[]): Promise<string | null> {
  const text = await tree.readFile(".tool-versions");
  if (text === null) return null;
  for (const line of text.split("\n")) {
    const words = line.replace(/#.*/, "").trim().split(/\s+/);
    if (words[0] === "python") return managerPin(".tool-versions", words.slice(1), reasons);
  }
  return null;
}

/**
 * mise's `[tools] python` in mise.toml or .mise.toml: a string, a list (first active) or a table with `version`.
 * mini-toml reads it: plain tables, strings, arrays and inline tables are the grammar it already handles fully.
 */
async function misePin(tree: SourceTree, reasons: string[]): Promise<string | null> {
  for (const file of ["mise.toml", ".mise.toml"]) {
    const text = await tree.readFile(file);
    if (text === null) continue;
    let config: TomlTable;
    try {
      config = parseToml(text);
    } catch (error) {
      if (!(error instanceof TomlError)) throw error;
      reasons.push(`${file} could not be parsed (${error.message}): ignoring it`);
      continue;
    }
    const raw = tomlGet(config, ["tools", "python"]);
    const entries = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
    const versions = entries.flatMap((entry) => {
      const version = isTomlTable(entry) ? entry.version : entry;
      return typeof version === "string" ? [version] : [];
    });
    const minor = managerPin(`${file} [tools] python`, versions, reasons);
    if (minor) return minor;
  }
  return null;
}

/** A Pipenv pin ("3.11" or "3.11.9") as a minor series; anything else is an error naming the file and key. */
function pipenvPin(source: string, key: string, raw: unknown, reasons: string[]): string | null {
  if (typeof raw !== "string") return null;
  const minor = toMinorVersion(raw);
  if (minor === null) {
    throw new PlanError(
      `${source} ${key} is ${quote(raw)}; expected a CPython version such as 3.12 or 3.12.4`,
      "invalid_python_version",
    );
  }
  reasons.push(`Python ${minor} from ${source} ${key} (${quote(raw)})`);
  return minor;
}

/**
 * Pipenv's pins, as Heroku reads them: Pipfile.lock `_meta.requires` first (what was locked), then the Pipfile's
 * `[requires]`; python_full_version before python_version. (Pipfile.lock was checked to be JSON already.)
 */
async function pipenvVersion(tree: SourceTree, reasons: string[]): Promise<string | null> {
  const lockText = await tree.readFile("Pipfile.lock");
  if (lockText !== null) {
    let requires: Record<string, unknown> = {};
    try {
      const meta = (JSON.parse(lockText) as { _meta?: { requires?: unknown } })._meta;
      if (typeof meta?.requires === "object" && meta.requires !== null) requires = meta.requires as typeof requires;
    } catch {
      // An invalid lock file is refused by the installer detection, with its own message.
    }
    for (const key of ["python_full_version", "python_version"]) {
      const minor = pipenvPin("Pipfile.lock", key, requires[key], reasons);
      if (minor) return minor;
    }
  }
  const pipfileText = await tree.readFile("Pipfile");
  if (pipfileText === null) return null;
  let pipfile: TomlTable;
  try {
    pipfile = parseToml(pipfileText);
  } catch (error) {
    if (error instanceof TomlError) return null;
    throw error;
  }
  for (const key of ["python_full_version", "python_version"]) {
    const minor = pipenvPin("Pipfile", key, tomlGet(pipfile, ["requires", key]), reasons);
    if (minor) return minor;
  }
  return null;
}

export async function detectPythonVersion(
  tree: SourceTree,
  pyproject: TomlTable | null,
  defaultVersion: string,
  reasons: string[],
): Promise<string> {
  const pinned = await tree.readFile(".python-version");
  if (pinned !== null) {
    const line = firstMeaningfulLine(pinned);
    if (line !== null) {
      const minor = toMinorVersion(line);
      if (minor === null) {
        throw new PlanError(
          `.python-version asks for ${quote(line)}; expected a CPython version such as 3.12 or 3.12.4`,
          "invalid_python_version",
        );
      }
      reasons.push(`Python ${minor} from .python-version${line === minor ? "" : ` (${line})`}`);
      checkAgainstRequiresPython(minor, ".python-version", pyproject, reasons);
      return minor;
    }
    reasons.push(".python-version is empty: ignoring it");
  }

  const runtime = await tree.readFile("runtime.txt");
  if (runtime !== null) {
    const line = firstMeaningfulLine(runtime) ?? "";
    const match = /^python-(.+)$/.exec(line);
    const minor = match?.[1] ? toMinorVersion(match[1]) : null;
    if (minor === null) {
      throw new PlanError(
        `runtime.txt asks for ${quote(line)}; expected a line such as python-3.12.4`,
        "invalid_python_version",
      );
    }
    reasons.push(`Python ${minor} from runtime.txt (${line})`);
    checkAgainstRequiresPython(minor, "runtime.txt", pyproject, reasons);
    return minor;
  }

  for (const [source, pin] of [
    [".tool-versions", toolVersionsPin],
    ["mise.toml", misePin],
  ] as const) {
    const minor = await pin(tree, reasons);
    if (minor) {
      checkAgainstRequiresPython(minor, source, pyproject, reasons);
      return minor;
    }
  }

  const pipenv = await pipenvVersion(tree, reasons);
  if (pipenv) {
    checkAgainstRequiresPython(pipenv, "the Pipfile pin", pyproject, reasons);
    return pipenv;
  }

  if (pyproject) {
    const requiresPython = tomlGet(pyproject, ["project", "requires-python"]);
    if (typeof requiresPython === "string") {
      const clauses = parseSpecifierSet(requiresPython);
      const chosen = fromConstraint("requires-python", requiresPython, clauses, defaultVersion, reasons);
      if (chosen) return chosen;
    }
    const poetryPython = tomlGet(pyproject, ["tool", "poetry", "dependencies", "python"]);
    if (typeof poetryPython === "string") {
      const clauses = parsePoetryConstraint(poetryPython);
      const chosen = fromConstraint(
        "[tool.poetry.dependencies] python",
        poetryPython,
        clauses,
        defaultVersion,
        reasons,
      );
      if (chosen) return chosen;
    }
  }

  reasons.push(
    `Python ${defaultVersion}: the platform default (no .python-version, runtime.txt, .tool-versions, mise.toml, Pipfile pin or requires-python)`,
  );
  return defaultVersion;
}
