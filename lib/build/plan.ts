import { detectWebProcess, LOOKED_FOR, type WebServer } from "./framework";
import { isTomlTable, parseToml, TomlError, type TomlTable, tomlGet } from "./mini-toml";
import { parseProcfile } from "./procfile";
import {
  type Clause,
  PYTHON_MINOR_CANDIDATES,
  parsePoetryConstraint,
  parseSpecifierSet,
  resolveMinorVersion,
  toMinorVersion,
} from "./python-version";
import type { SourceTree } from "./source-tree";

export { fsSourceTree, memorySourceTree, SourcePathError, type SourceTree, scopedSourceTree } from "./source-tree";

/**
 * The build plan: what the deploy pipeline decided about an app's source before building it (see the "Deploy
 * pipeline" section of docs/architecture.md). `detectPlan` is pure apart from reading the `SourceTree`, so the same
 * snapshot always gives the same plan, and the plan is shown to the user and stored on the deployment.
 */

export type Installer = "uv" | "poetry" | "pipenv" | "pip" | "none";

export type PlanOverrides = {
  pythonVersion?: string;
  install?: string;
  web?: string;
  release?: string | null;
  /** Process types added or overridden in app settings (names checked there); never web or release. */
  processes?: Record<string, string>;
};

/** Process types other than web become podman labels and container names: a letter first (lib/infra/podman/args.ts). */
const PROCESS_TYPE = /^[a-z][a-z0-9_-]{0,29}$/;

export type BuildPlan = {
  builder: "containerfile" | "python";
  /** Relative path of the Containerfile/Dockerfile when builder = "containerfile". */
  containerfile?: string;
  installer: Installer;
  /** "3.12" style major.minor; the build uses the newest patch release of that series. */
  pythonVersion: string;
  /**
   * The command that installs dependencies inside the image, run from the app directory. When detected (not
   * overridden) it is shell-free: the arguments of `DEFAULT_INSTALL_ARGV[installer]` joined by single spaces, none
   * containing whitespace or shell syntax, so `installCommand.split(" ")` is its argv for an exec-form RUN.
   * An install command overridden in app settings is the tenant's own and runs inside the build sandbox.
   */
  installCommand: string | null;
  /** Process name → command ("web", "worker", ...); web always binds to $PORT. */
  processes: Record<string, string>;
  release: string | null;
  /** Human readable: which file decided what. */
  reasons: string[];
};

export type PlanErrorCode = "no_plan" | "invalid_python_version" | "invalid_override";

export class PlanError extends Error {
  readonly code: PlanErrorCode;
  constructor(message: string, code: PlanErrorCode = "no_plan") {
    super(message);
    this.name = "PlanError";
    this.code = code;
  }
}

export type DetectPlanOptions = { defaultPythonVersion: string; overrides?: PlanOverrides };

/** Installing the project root is left out for poetry: the app runs from its source directory, and Poetry 2
 * refuses to install a root that is not a package. */
export const DEFAULT_INSTALL_ARGV = {
  uv: ["uv", "sync", "--locked", "--no-dev"],
  poetry: ["poetry", "install", "--only", "main", "--no-root", "--no-interaction"],
  pipenv: ["pipenv", "install", "--deploy", "--system"],
  pipRequirements: ["pip", "install", "--no-cache-dir", "-r", "requirements.txt"],
  pipProject: ["pip", "install", "--no-cache-dir", "."],
} as const satisfies Record<string, readonly string[]>;

function quote(value: string, max = 40): string {
  return JSON.stringify(value.length > max ? `${value.slice(0, max)}...` : value);
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;

function checkOverrideCommand(label: string, value: string | null | undefined): void {
  if (value === undefined || value === null) return;
  if (CONTROL.test(value)) throw new PlanError(`the ${label} override contains control characters`, "invalid_override");
}

// ---------------------------------------------------------------------------------------------------------------
// Manifests

type Manifests = { pyproject: TomlTable | null; pipfile: TomlTable | null; requirements: string | null };

async function readToml(tree: SourceTree, relPath: string, reasons: string[]): Promise<TomlTable | null> {
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

function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

function requirementName(requirement: string): string | null {
  const match = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(requirement);
  return match?.[1] ? normalizeName(match[1]) : null;
}

/** Top-level dependency names from whichever manifests exist; only used to warn about a missing server. */
function dependencyNames(manifests: Manifests): Set<string> {
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

// ---------------------------------------------------------------------------------------------------------------
// Installer

async function detectInstaller(
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

// ---------------------------------------------------------------------------------------------------------------
// Python version

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

async function detectPythonVersion(
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

  reasons.push(`Python ${defaultVersion}: the platform default (no .python-version, runtime.txt or requires-python)`);
  return defaultVersion;
}

// ---------------------------------------------------------------------------------------------------------------
// The plan

async function findContainerfile(tree: SourceTree): Promise<string | null> {
  for (const name of ["Containerfile", "Dockerfile"]) if (await tree.exists(name)) return name;
  return null;
}

/** Listing web first keeps `plan --json` output and the UI stable whatever order the Procfile used. */
function webFirst(processes: Record<string, string>): Record<string, string> {
  const { web, ...rest } = processes;
  return web === undefined ? rest : { web, ...rest };
}

function serverReason(server: WebServer, installer: Installer, dependencies: Set<string>): string | null {
  if (dependencies.has(server)) return null;
  const where = installer === "none" ? "no dependency file was found" : "it is not listed in the dependencies";
  const fix = `add ${server} as a dependency or the app will not start`;
  return `warning: the web command runs ${server}, but ${where}; ${fix}`;
}

export async function detectPlan(tree: SourceTree, options: DetectPlanOptions): Promise<BuildPlan> {
  const defaultVersion = toMinorVersion(options.defaultPythonVersion);
  if (defaultVersion === null) {
    // A platform configuration bug, not something the tenant can fix: a plain error, not a PlanError.
    throw new RangeError(`defaultPythonVersion must look like 3.N, got ${quote(options.defaultPythonVersion)}`);
  }
  const overrides = options.overrides ?? {};
  checkOverrideCommand("install", overrides.install);
  checkOverrideCommand("web", overrides.web);
  checkOverrideCommand("release", overrides.release);
  for (const [name, command] of Object.entries(overrides.processes ?? {})) {
    checkOverrideCommand(`"${name}" process`, command);
    if (command.trim() === "") throw new PlanError(`the "${name}" process command is empty`, "invalid_override");
  }
  if (overrides.web !== undefined && overrides.web.trim() === "") {
    throw new PlanError("the web command override is empty", "invalid_override");
  }
  let overriddenVersion: string | null = null;
  if (overrides.pythonVersion !== undefined) {
    overriddenVersion = toMinorVersion(overrides.pythonVersion);
    if (overriddenVersion === null) {
      throw new PlanError(
        `the Python version in app settings is ${quote(overrides.pythonVersion)}; expected a version such as 3.12`,
        "invalid_python_version",
      );
    }
  }

  const reasons: string[] = [];
  const procfileText = await tree.readFile("Procfile");
  const procfile = procfileText === null ? null : parseProcfile(procfileText);
  const containerfile = await findContainerfile(tree);

  let builder: BuildPlan["builder"];
  let installer: Installer = "none";
  let installCommand: string | null = null;
  let pythonVersion: string;
  let server: WebServer | null = null;
  let dependencies = new Set<string>();

  if (containerfile !== null) {
    builder = "containerfile";
    reasons.push(
      `${containerfile} found at the root: building it as is ` +
        "(it installs its own dependencies and picks its own Python)",
    );
    if (containerfile === "Containerfile" && (await tree.exists("Dockerfile"))) {
      reasons.push("Dockerfile ignored: Containerfile takes precedence");
    }
    pythonVersion = defaultVersion;
    if (overriddenVersion === null) {
      reasons.push(`Python version not detected for a ${containerfile} build: reporting the default ${defaultVersion}`);
    }
  } else {
    builder = "python";
    ({ installer, installCommand } = await detectInstaller(tree, reasons));
    const manifests: Manifests = {
      pyproject: await readToml(tree, "pyproject.toml", reasons),
      pipfile: installer === "pipenv" ? await readToml(tree, "Pipfile", reasons) : null,
      requirements: await tree.readFile("requirements.txt"),
    };
    dependencies = dependencyNames(manifests);
    pythonVersion =
      overriddenVersion ?? (await detectPythonVersion(tree, manifests.pyproject, defaultVersion, reasons));
  }

  let processes: Record<string, string> = {};
  let release: string | null = null;
  if (procfile) {
    reasons.push(...procfile.notes);
    const names = Object.keys(procfile.processes);
    if (names.length > 0) reasons.push(`Procfile found: processes ${names.join(", ")}`);
    processes = webFirst(procfile.processes);
    for (const name of Object.keys(processes)) {
      if (name === "web" || PROCESS_TYPE.test(name)) continue;
      reasons.push(`Procfile process "${name}" ignored: a process type must start with a letter`);
      delete processes[name];
    }
    if (procfile.release !== null) {
      release = procfile.release;
      reasons.push("release command from the Procfile release: line");
    }
  }

  if (processes.web === undefined && overrides.web === undefined) {
    if (builder === "python") {
      if (procfile) reasons.push("the Procfile has no web: line: looking for a framework");
      const { detection, notes } = await detectWebProcess(tree);
      reasons.push(...notes);
      if (detection) {
        reasons.push(detection.reason);
        processes = webFirst({ ...processes, web: detection.command });
        server = detection.server;
        if (detection.framework === "django" && release === null) {
          reasons.push(
            "Django project without a release command: migrations are not run automatically; " +
              "add `release: python manage.py migrate --noinput` to a Procfile to run them on each deploy",
          );
        }
      }
    } else {
      reasons.push(`no Procfile web: line: the container runs the ${containerfile} CMD, which must listen on $PORT`);
    }
  }

  if (server !== null) {
    const warning = serverReason(server, installer, dependencies);
    if (warning) reasons.push(warning);
  }

  // Overrides from app settings come last so they replace whatever was detected.
  if (overriddenVersion !== null) {
    reasons.push(`Python version overridden in app settings: ${overriddenVersion}`);
    pythonVersion = overriddenVersion;
  }
  if (overrides.install !== undefined) {
    if (builder === "containerfile") {
      reasons.push(`install command override ignored: the ${containerfile} installs dependencies itself`);
    } else if (overrides.install.trim() === "") {
      installCommand = null;
      reasons.push("install step disabled in app settings");
    } else {
      installCommand = overrides.install.trim();
      reasons.push("install command overridden in app settings");
    }
  }
  if (overrides.web !== undefined) {
    processes = webFirst({ ...processes, web: overrides.web.trim() });
    reasons.push("web command overridden in app settings");
  }
  const extra = Object.entries(overrides.processes ?? {}).filter(([name]) => name !== "web" && name !== "release");
  if (extra.length > 0) {
    processes = webFirst({
      ...processes,
      ...Object.fromEntries(extra.map(([name, command]) => [name, command.trim()])),
    });
    reasons.push(`process types overridden in app settings: ${extra.map(([name]) => name).join(", ")}`);
  }
  if (overrides.release !== undefined) {
    const value = overrides.release === null ? null : overrides.release.trim() || null;
    release = value;
    reasons.push(
      value === null ? "release command disabled in app settings" : "release command overridden in app settings",
    );
  }

  const web = processes.web;
  if (web !== undefined && !web.includes("PORT")) {
    reasons.push("warning: the web command does not mention $PORT; the app must listen on the port given in $PORT");
  }

  if (web === undefined && builder === "python" && Object.keys(processes).length > 0) {
    // Workers, bots, consumers: valid on their own (#15); nothing to route.
    reasons.push("no web process: the app has no address; its processes run without being routed");
  } else if (web === undefined && builder === "python") {
    throw new PlanError(
      `could not find how to start this app. Looked for: ${LOOKED_FOR.join("; ")}. ` +
        "Add a Procfile with a line such as `web: gunicorn myapp.wsgi --bind 0.0.0.0:$PORT`, " +
        "or set the web command in the app settings.",
    );
  }

  const plan: BuildPlan = { builder, installer, pythonVersion, installCommand, processes, release, reasons };
  if (containerfile !== null) plan.containerfile = containerfile;
  return plan;
}

export type BuildPlanJson = Pick<
  BuildPlan,
  "builder" | "installer" | "pythonVersion" | "processes" | "release" | "reasons"
>;

/** The stable, user-facing shape printed by `manage plan --json`: exactly these keys, in this order. */
export function planToJson(plan: BuildPlan): BuildPlanJson {
  return {
    builder: plan.builder,
    installer: plan.installer,
    pythonVersion: plan.pythonVersion,
    processes: { ...plan.processes },
    release: plan.release,
    reasons: [...plan.reasons],
  };
}
