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
import { type Installer, PlanError, quote } from "./types";

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

/** A version pinned by a file: the minor series, the text as written and the file it came from. */
type Pin = { minor: string; raw: string; source: string };

/** End of life dates of the series a pin may still name; older series are refused (see docs/python.md). */
const END_OF_LIFE: Record<string, string> = { "3.9": "October 2025" };

function minorNumber(version: string): number {
  return Number(version.split(".")[1]);
}

/**
 * What a pin can ask for: a series older than the oldest supported one is refused (end of life, no image to build
 * on), one newer than any known release is refused (a typo, or a release the platform does not build yet); an
 * end-of-life series still supported builds with a warning; an exact patch release is honoured as its series
 * (the build uses the newest patch, which has the security fixes) and that is said, not hidden.
 */
function checkPin(pin: Pin, defaultVersion: string, reasons: string[]): string {
  const known = [...PYTHON_MINOR_CANDIDATES, defaultVersion].map(minorNumber);
  const minor = minorNumber(pin.minor);
  const oldest = Math.min(...known);
  if (minor < oldest) {
    throw new PlanError(
      `Python ${pin.minor} from ${pin.source} reached end of life and is not supported; ` +
        `use a supported version (${describeRange(defaultVersion)})`,
      "invalid_python_version",
    );
  }
  if (minor > Math.max(...known)) {
    throw new PlanError(
      `Python ${pin.minor} from ${pin.source} is not a known Python release; ` +
        `use a supported version (${describeRange(defaultVersion)})`,
      "invalid_python_version",
    );
  }
  const eol = END_OF_LIFE[pin.minor];
  if (eol) reasons.push(`warning: Python ${pin.minor} reached end of life in ${eol}: it gets no security fixes`);
  if (pin.raw.trim() !== pin.minor) {
    reasons.push(
      `warning: ${pin.source} pins ${pin.raw.trim()}; the build uses the newest ${pin.minor} patch release, ` +
        "not exactly that one",
    );
  }
  return pin.minor;
}

/** A pin from a version-manager file; several versions: the first is the one that tool activates. */
function managerPin(source: string, versions: string[], reasons: string[]): Pin | null {
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
  return { minor, raw: first, source };
}

/** asdf's .tool-versions: `python 3.12.1 3.11.0` lines; the first version listed is the active one. */
async function toolVersionsPin(tree: SourceTree, reasons: string[]): Promise<Pin | null> {
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
async function misePin(tree: SourceTree, reasons: string[]): Promise<Pin | null> {
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
    const pin = managerPin(`${file} [tools] python`, versions, reasons);
    if (pin) return pin;
  }
  return null;
}

/** A Pipenv pin ("3.11" or "3.11.9") as a minor series; anything else is an error naming the file and key. */
function pipenvPin(source: string, key: string, raw: unknown, reasons: string[]): Pin | null {
  if (typeof raw !== "string") return null;
  const minor = toMinorVersion(raw);
  if (minor === null) {
    throw new PlanError(
      `${source} ${key} is ${quote(raw)}; expected a CPython version such as 3.12 or 3.12.4`,
      "invalid_python_version",
    );
  }
  reasons.push(`Python ${minor} from ${source} ${key} (${quote(raw)})`);
  return { minor, raw, source };
}

/**
 * Pipenv's pins, as Heroku reads them: Pipfile.lock `_meta.requires` first (what was locked), then the Pipfile's
 * `[requires]`; python_full_version before python_version. (Pipfile.lock was checked to be JSON already.)
 */
async function pipenvVersion(tree: SourceTree, reasons: string[]): Promise<Pin | null> {
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
      const pin = pipenvPin("Pipfile.lock", key, requires[key], reasons);
      if (pin) return pin;
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
    const pin = pipenvPin("Pipfile", key, tomlGet(pipfile, ["requires", key]), reasons);
    if (pin) return pin;
  }
  return null;
}

export async function detectPythonVersion(
  tree: SourceTree,
  pyproject: TomlTable | null,
  defaultVersion: string,
  reasons: string[],
  installer: Installer = "none",
): Promise<string> {
  const pinned = await tree.readFile(".python-version");
  if (pinned !== null) {
    const line = firstMeaningfulLine(pinned);
    const lines = pinned
      .split("\n")
      .map((text) => text.trim())
      .filter((text) => text !== "" && !text.startsWith("#"));
    if (lines.length > 1) {
      // pyenv accepts several (the first is active, the others are on PATH too); an image has one Python.
      reasons.push(`warning: several versions in .python-version (${lines.join(", ")}): using the first`);
    }
    if (line !== null) {
      const minor = toMinorVersion(line);
      if (minor === null) {
        throw new PlanError(
          `.python-version asks for ${quote(line)}; expected a CPython version such as 3.12 or 3.12.4`,
          "invalid_python_version",
        );
      }
      reasons.push(`Python ${minor} from .python-version${line === minor ? "" : ` (${line})`}`);
      checkPin({ minor, raw: line, source: ".python-version" }, defaultVersion, reasons);
      checkAgainstRequiresPython(minor, ".python-version", pyproject, reasons);
      return minor;
    }
    reasons.push("warning: .python-version is empty: ignoring it");
  }

  const runtime = await tree.readFile("runtime.txt");
  if (runtime !== null && installer === "uv") {
    // uv never reads runtime.txt, so the image and uv's own resolution would disagree; Heroku refuses this too.
    throw new PlanError(
      "runtime.txt is not read by uv, which installs this app (uv.lock): move the version to .python-version " +
        "(for example `3.12`) and delete runtime.txt",
      "invalid_python_version",
    );
  }
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
    checkPin({ minor, raw: match?.[1] ?? "", source: "runtime.txt" }, defaultVersion, reasons);
    checkAgainstRequiresPython(minor, "runtime.txt", pyproject, reasons);
    return minor;
  }

  for (const [source, pin] of [
    [".tool-versions", toolVersionsPin],
    ["mise.toml", misePin],
  ] as const) {
    const found = await pin(tree, reasons);
    if (found) {
      const minor = checkPin(found, defaultVersion, reasons);
      checkAgainstRequiresPython(minor, source, pyproject, reasons);
      return minor;
    }
  }

  const pipenv = await pipenvVersion(tree, reasons);
  if (pipenv) {
    const minor = checkPin(pipenv, defaultVersion, reasons);
    checkAgainstRequiresPython(minor, "the Pipfile pin", pyproject, reasons);
    return minor;
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
