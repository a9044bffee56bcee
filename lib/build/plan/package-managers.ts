import type { SourceTree } from "../source-tree";
import type { Installer } from "./types";

// Which package manager installs the dependencies, from the lock files and manifests at the root.

/** Installing the project root is left out for poetry: the app runs from its source directory, and Poetry 2
 * refuses to install a root that is not a package. */
export const DEFAULT_INSTALL_ARGV = {
  uv: ["uv", "sync", "--locked", "--no-dev"],
  poetry: ["poetry", "install", "--only", "main", "--no-root", "--no-interaction"],
  pipenv: ["pipenv", "install", "--deploy", "--system"],
  pipRequirements: ["pip", "install", "--no-cache-dir", "-r", "requirements.txt"],
  pipProject: ["pip", "install", "--no-cache-dir", "."],
} as const satisfies Record<string, readonly string[]>;

export async function detectInstaller(
  tree: SourceTree,
  reasons: string[],
): Promise<{ installer: Installer; installCommand: string | null }> {
  const has = (relPath: string) => tree.exists(relPath);
  const pyproject = await has("pyproject.toml");
  const requireManifest = (lock: string, manifest: string, present: boolean) => {
    if (!present) reasons.push(`warning: ${lock} found without ${manifest}; the install step needs both`);
  };
  if (await has("uv.lock")) {
    reasons.push("uv.lock found: installing with uv");
    requireManifest("uv.lock", "pyproject.toml", pyproject);
    return { installer: "uv", installCommand: DEFAULT_INSTALL_ARGV.uv.join(" ") };
  }
  if (await has("poetry.lock")) {
    reasons.push("poetry.lock found: installing with poetry");
    requireManifest("poetry.lock", "pyproject.toml", pyproject);
    return { installer: "poetry", installCommand: DEFAULT_INSTALL_ARGV.poetry.join(" ") };
  }
  if (await has("Pipfile.lock")) {
    reasons.push("Pipfile.lock found: installing with pipenv");
    requireManifest("Pipfile.lock", "Pipfile", await has("Pipfile"));
    return { installer: "pipenv", installCommand: DEFAULT_INSTALL_ARGV.pipenv.join(" ") };
  }
  if (await has("requirements.txt")) {
    reasons.push("requirements.txt found: installing with pip");
    return { installer: "pip", installCommand: DEFAULT_INSTALL_ARGV.pipRequirements.join(" ") };
  }
  if (pyproject) {
    reasons.push("pyproject.toml found without a lock file or requirements.txt: installing the project with pip");
    return { installer: "pip", installCommand: DEFAULT_INSTALL_ARGV.pipProject.join(" ") };
  }
  reasons.push(
    "no uv.lock, poetry.lock, Pipfile.lock, requirements.txt or pyproject.toml found: no dependencies to install",
  );
  return { installer: "none", installCommand: null };
}
