import { stat } from "node:fs/promises";
import { type BuildPlan, detectPlan, fsSourceTree, PlanError, planToJson, SourcePathError } from "./plan";

/**
 * `npm run manage -- plan <dir> [--json]`: prints the build plan of a source directory. Returns the output
 * instead of writing it so the CLI wiring stays trivial and this stays testable.
 * Exit codes: 0 plan found, 1 no plan (the message says why), 2 the directory is unusable.
 */

export type PlanCommandOptions = { json: boolean; defaultPythonVersion: string };
export type PlanCommandResult = { exitCode: number; stdout: string; stderr: string };

function formatPlan(plan: BuildPlan): string {
  const lines: string[] = [];
  const row = (label: string, value: string) => lines.push(`${`${label}:`.padEnd(18)}${value}`);
  row("builder", plan.containerfile ? `${plan.builder} (${plan.containerfile})` : plan.builder);
  row("installer", plan.installCommand ? `${plan.installer} (${plan.installCommand})` : plan.installer);
  row("python", plan.pythonVersion);
  const names = Object.keys(plan.processes);
  if (names.length === 0) row("processes", "(none)");
  for (const name of names) row(`process ${name}`, plan.processes[name] ?? "");
  row("release", plan.release ?? "(none)");
  // Steps the generated Containerfile adds that the JSON plan does not carry (lib/build/containerfile.ts).
  if (plan.addedServer) row("build step", `pip install ${plan.addedServer} (not in the dependencies)`);
  if (plan.collectstatic) row("build step", plan.collectstatic);
  lines.push("reasons:");
  for (const reason of plan.reasons) lines.push(`  - ${reason}`);
  return `${lines.join("\n")}\n`;
}

function failure(json: boolean, exitCode: number, code: string, message: string): PlanCommandResult {
  return {
    exitCode,
    stdout: json ? `${JSON.stringify({ error: { code, message } }, null, 2)}\n` : "",
    stderr: `plan: ${message}\n`,
  };
}

export async function runPlanCommand(dir: string, opts: PlanCommandOptions): Promise<PlanCommandResult> {
  try {
    if (!(await stat(dir)).isDirectory()) return failure(opts.json, 2, "not_a_directory", `${dir} is not a directory`);
  } catch {
    return failure(opts.json, 2, "not_a_directory", `${dir} does not exist or cannot be read`);
  }
  try {
    const plan = await detectPlan(fsSourceTree(dir), { defaultPythonVersion: opts.defaultPythonVersion });
    return {
      exitCode: 0,
      stdout: opts.json ? `${JSON.stringify(planToJson(plan), null, 2)}\n` : formatPlan(plan),
      stderr: "",
    };
  } catch (error) {
    if (error instanceof PlanError || error instanceof SourcePathError) {
      return failure(opts.json, 1, error.code, error.message);
    }
    // An operator tool: say what went wrong (permissions, I/O) rather than crash with a stack trace.
    return failure(opts.json, 1, "error", error instanceof Error ? error.message : String(error));
  }
}
