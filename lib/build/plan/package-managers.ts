import type { SourceTree } from "../source-tree";
import { type Installer, PlanError } from "./types";

/** A Pipfile.lock that is not a JSON object (merge conflict, truncated) would fail the build later and obscurely. */
async function checkPipfileLock(tree: SourceTree): Promise<void> {
  const text = await tree.readFile("Pipfile.lock");
  if (text === null) return;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const detail = error instanceof SyntaxError ? error.message : "unreadable";
    throw new PlanError(`Pipfile.lock is not valid JSON (${detail}); regenerate it with \`pipenv lock\``);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new PlanError("Pipfile.lock is not valid JSON (expected an object); regenerate it with `pipenv lock`");
  }
}

// Which package manager installs the dependencies, from the lock files and manifests at the root.

/** Installing the project root is left out for poetry: the app runs from its source directory, and Poetry 2
 * refuses to install a root that is not a package. */
export const DEFAULT_INSTALL_ARGV = {
  uv: ["uv", "sync", "--locked", "--no-dev"],
  poetry: ["poetry", "install", "--only", "main", "--no-root", "--no-interaction"],
  pipenv: ["pipenv", "install", "--deploy", "--system"],
  // Without a lock there is nothing to --deploy against: resolve from the Pipfile, as Heroku's buildpack did.
  pipenvNoLock: ["pipenv", "install", "--system", "--skip-lock"],
  // --no-self: like poetry's --no-root, the app runs from its source directory. pdm uses the active virtualenv.
  pdm: ["pdm", "sync", "--prod", "--no-self"],
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
  const locks: string[] = [];
  for (const lock of ["uv.lock", "poetry.lock", "Pipfile.lock", "pdm.lock"]) if (await has(lock)) locks.push(lock);
  if (locks.length > 1) {
    // The first in this order wins (documented in docs/python.md); the others are stale or a migration left behind.
    reasons.push(
      `warning: several lock files found (${locks.join(", ")}): installing with ${locks[0]}; delete the others`,
    );
  }
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
    await checkPipfileLock(tree);
    return { installer: "pipenv", installCommand: DEFAULT_INSTALL_ARGV.pipenv.join(" ") };
  }
  if (await has("pdm.lock")) {
    reasons.push("pdm.lock found: installing with pdm");
    requireManifest("pdm.lock", "pyproject.toml", pyproject);
    return { installer: "pdm", installCommand: DEFAULT_INSTALL_ARGV.pdm.join(" ") };
  }
  if (await has("requirements.txt")) {
    reasons.push("requirements.txt found: installing with pip");
    return { installer: "pip", installCommand: DEFAULT_INSTALL_ARGV.pipRequirements.join(" ") };
  }
  if (await has("Pipfile")) {
    reasons.push(
      "warning: Pipfile found without Pipfile.lock: installing with pipenv --skip-lock, so versions are resolved " +
        "at build time; commit a Pipfile.lock (`pipenv lock`) for repeatable builds",
    );
    return { installer: "pipenv", installCommand: DEFAULT_INSTALL_ARGV.pipenvNoLock.join(" ") };
  }
  if (pyproject) {
    reasons.push("pyproject.toml found without a lock file or requirements.txt: installing the project with pip");
    return { installer: "pip", installCommand: DEFAULT_INSTALL_ARGV.pipProject.join(" ") };
  }
  reasons.push(
    "no uv.lock, poetry.lock, Pipfile.lock, pdm.lock, requirements.txt, Pipfile or pyproject.toml found: no dependencies to install",
  );
  return { installer: "none", installCommand: null };
}
