import { detectWebProcess, LOOKED_FOR, type WebServer } from "./framework";
import { proposeDjangoSetup } from "./plan/django";
import { dependencyNames, type Manifests, readToml } from "./plan/manifests";
import { DEFAULT_INSTALL_ARGV, detectInstaller } from "./plan/package-managers";
import { detectPythonVersion } from "./plan/python-version";
import { detectScriptEntry } from "./plan/start-command";
import {
  type BuildPlan,
  type DetectPlanOptions,
  type Installer,
  PlanError,
  type PlanErrorCode,
  type PlanOverrides,
  quote,
} from "./plan/types";
import { parseProcfile } from "./procfile";
import { toMinorVersion } from "./python-version";
import type { SourceTree } from "./source-tree";

export { fsSourceTree, memorySourceTree, SourcePathError, type SourceTree, scopedSourceTree } from "./source-tree";
export {
  type BuildPlan,
  DEFAULT_INSTALL_ARGV,
  type DetectPlanOptions,
  type Installer,
  PlanError,
  type PlanErrorCode,
  type PlanOverrides,
};

/**
 * The build plan: what the deploy pipeline decided about an app's source before building it (see the "Deploy
 * pipeline" section of docs/architecture.md). `detectPlan` is pure apart from reading the `SourceTree`, so the same
 * snapshot always gives the same plan, and the plan is shown to the user and stored on the deployment.
 */

/** Process types other than web become podman labels and container names: a letter first (lib/infra/podman/args.ts). */
const PROCESS_TYPE = /^[a-z][a-z0-9_-]{0,29}$/;

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;

function checkOverrideCommand(label: string, value: string | null | undefined): void {
  if (value === undefined || value === null) return;
  if (CONTROL.test(value)) throw new PlanError(`the ${label} override contains control characters`, "invalid_override");
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

/** Dependencies that bring the server with them (python-fasthtml requires uvicorn). */
const PROVIDES: Record<WebServer, string[]> = { gunicorn: [], uvicorn: ["python-fasthtml"] };

function serverReason(server: WebServer, installer: Installer, dependencies: Set<string>): string | null {
  if (dependencies.has(server) || PROVIDES[server].some((name) => dependencies.has(name))) return null;
  const where = installer === "none" ? "no dependency file was found" : "it is not listed in the dependencies";
  return (
    `${server} is not a dependency: the platform installs it into the image so the web command can start ` +
    `(warning: the web command runs ${server}, but ${where}; add ${server} as a dependency to choose its version)`
  );
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
  let addedServer: WebServer | null = null;
  let collectstatic: string | null = null;
  let dependencies = new Set<string>();
  let pyproject: Manifests["pyproject"] = null;

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
    pyproject = manifests.pyproject;
    pythonVersion =
      overriddenVersion ?? (await detectPythonVersion(tree, manifests.pyproject, defaultVersion, reasons, installer));
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
        if (detection.framework === "django") {
          const setup = await proposeDjangoSetup(tree, detection, {
            hasRelease: release !== null || (overrides.release !== undefined && overrides.release !== null),
            enabled: overrides.djangoSetup !== false,
          });
          reasons.push(...setup.reasons);
          release = release ?? setup.release;
          collectstatic = setup.collectstatic;
        }
      } else if (Object.keys(processes).length === 0) {
        // No framework: a script entry point starts the app, as web only when it serves $PORT (#20).
        const entry = await detectScriptEntry(tree, pyproject);
        if (entry) {
          reasons.push(...entry.reasons);
          processes = { [entry.process]: entry.command };
        }
      }
    } else {
      reasons.push(`no Procfile web: line: the container runs the ${containerfile} CMD, which must listen on $PORT`);
    }
  }

  if (server !== null) {
    const warning = serverReason(server, installer, dependencies);
    if (warning) reasons.push(warning);
    if (warning) addedServer = server;
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
  if (collectstatic !== null) plan.collectstatic = collectstatic;
  // Only when the detected command is still the web command: an override or Procfile runs what the app chose.
  if (addedServer !== null && plan.processes.web?.startsWith(`${addedServer} `)) plan.addedServer = addedServer;
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
