import { isTomlTable, parseToml, TomlError, type TomlTable, tomlGet } from "../mini-toml";
import type { SourceTree } from "../source-tree";

// The manifests a Python build plan reads: pyproject.toml, Pipfile, requirements.txt.

export type Manifests = { pyproject: TomlTable | null; pipfile: TomlTable | null; requirements: string | null };

export async function readToml(tree: SourceTree, relPath: string, reasons: string[]): Promise<TomlTable | null> {
  const text = await tree.readFile(relPath);
  if (text === null) return null;
  try {
    return parseToml(text);
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    reasons.push(`${relPath} could not be parsed (${error.message}): ignoring its contents`);
    return null;
  }
}

export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

export function requirementName(requirement: string): string | null {
  const match = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(requirement);
  return match?.[1] ? normalizeName(match[1]) : null;
}

/** Top-level dependency names from whichever manifests exist; only used to warn about a missing server. */
export function dependencyNames(manifests: Manifests): Set<string> {
  const names = new Set<string>();
  const add = (name: string | null) => {
    if (name) names.add(name);
  };
  for (const line of manifests.requirements?.split("\n") ?? []) {
    const trimmed = line.trim();
    if (trimmed !== "" && !trimmed.startsWith("#") && !trimmed.startsWith("-")) add(requirementName(trimmed));
  }
  const pyproject = manifests.pyproject;
  if (pyproject) {
    const deps = tomlGet(pyproject, ["project", "dependencies"]);
    if (Array.isArray(deps)) for (const dep of deps) if (typeof dep === "string") add(requirementName(dep));
    const poetryDeps = tomlGet(pyproject, ["tool", "poetry", "dependencies"]);
    if (isTomlTable(poetryDeps)) for (const key of Object.keys(poetryDeps)) add(normalizeName(key));
  }
  const pipfilePackages = manifests.pipfile ? tomlGet(manifests.pipfile, ["packages"]) : undefined;
  if (isTomlTable(pipfilePackages)) for (const key of Object.keys(pipfilePackages)) add(normalizeName(key));
  return names;
}
