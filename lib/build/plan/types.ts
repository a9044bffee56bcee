import type { SourceTree } from "../source-tree";

/**
 * The build plan's types and error, apart from lib/build/plan.ts so the per-concern modules in lib/build/plan/
 * can use them without importing the module that imports them.
 */

export type Installer = "uv" | "poetry" | "pipenv" | "pdm" | "pip" | "none";

export type PlanOverrides = {
  pythonVersion?: string;
  install?: string;
  web?: string;
  release?: string | null;
  /** false: no proposed `manage.py migrate` release command and no build-time collectstatic for Django (#20). */
  djangoSetup?: boolean;
  /** Process types added or overridden in app settings (names checked there); never web or release. */
  processes?: Record<string, string>;
};

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
  /**
   * A server the detected web command needs but the app does not list: the generated Containerfile installs it
   * after the dependencies, and a reason says so (#20). Internal to the build: not in `planToJson`.
   */
  addedServer?: "gunicorn" | "uvicorn";
  /** Django's collectstatic, run at the end of the image build (lib/build/plan/django.ts). Internal like addedServer. */
  collectstatic?: string;
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

export type { SourceTree };

/** Tenant-supplied text in a reason or error: JSON-quoted (so control characters show) and cut short. */
export function quote(value: string, max = 40): string {
  return JSON.stringify(value.length > max ? `${value.slice(0, max)}...` : value);
}
