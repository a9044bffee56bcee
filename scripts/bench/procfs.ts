// The platform's process tree from /proc: who is who (supervisor, web, worker, PostgreSQL clusters, Redis), CPU
// ticks from /proc/<pid>/stat, resident memory from /proc/<pid>/status, and proportional memory from smaps_rollup
// (PostgreSQL's shared buffers are mapped by every backend; RSS counts them once per process, PSS once in total).
import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";

export type Component =
  | "supervisor"
  | "web"
  | "worker"
  | "postgres"
  | "tenant_postgres"
  | "tenant_redis"
  | "build"
  | "other";

export type ProcessSample = {
  pid: number;
  ppid: number;
  component: Component;
  /** utime + stime, in clock ticks. */
  ticks: number;
  rssKb: number;
};

/** Clock ticks per second (USER_HZ); 100 on every Linux the platform targets, asked once in case. */
export const CLOCK_TICKS: number = (() => {
  try {
    const value = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    return Number.isFinite(value) && value > 0 ? value : 100;
  } catch {
    return 100;
  }
})();

type RawProcess = { pid: number; ppid: number; ticks: number; cmdline: string[] };

async function readProcess(pid: number): Promise<RawProcess | null> {
  try {
    const stat = await fs.readFile(`/proc/${pid}/stat`, "utf8");
    // The command name is in parentheses and may itself contain spaces and parentheses: split after the last one.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ppid = Number(fields[1]);
    const ticks = Number(fields[11]) + Number(fields[12]);
    const cmdline = (await fs.readFile(`/proc/${pid}/cmdline`, "utf8")).split("\0").filter(Boolean);
    return { pid, ppid, ticks, cmdline };
  } catch {
    // Exited between the directory listing and the read.
    return null;
  }
}

async function allProcesses(): Promise<Map<number, RawProcess>> {
  const entries = await fs.readdir("/proc");
  const pids = entries.filter((entry) => /^[0-9]+$/.test(entry)).map(Number);
  const processes = await Promise.all(pids.map(readProcess));
  return new Map(processes.flatMap((entry) => (entry ? [[entry.pid, entry] as const] : [])));
}

export async function rssKb(pid: number): Promise<number> {
  const status = await fs.readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  return Number(/^VmRSS:\s+([0-9]+) kB/m.exec(status)?.[1] ?? 0);
}

export async function pssKb(pid: number): Promise<number | null> {
  const rollup = await fs.readFile(`/proc/${pid}/smaps_rollup`, "utf8").catch(() => null);
  if (rollup === null) return null;
  return Number(/^Pss:\s+([0-9]+) kB/m.exec(rollup)?.[1] ?? 0);
}

function ownComponent(proc: RawProcess, supervisorPid: number, dataDir: string): Component | null {
  if (proc.pid === supervisorPid) return "supervisor";
  const args = proc.cmdline;
  const joined = args.join(" ");
  if (joined.includes("jobs/worker.ts")) return "worker";
  if (joined.includes("scripts/web-server.ts")) return "web";
  // `next start` renames itself (process.title "next-server (v16...)"), which rewrites its /proc cmdline.
  if ((args[0] ?? "").startsWith("next-server")) return "web";
  if (args.some((arg) => arg.endsWith("next/dist/bin/next"))) {
    return args.includes("build") ? "build" : "web";
  }
  if (path.basename(args[0] ?? "") === "postgres") {
    const dirIndex = args.indexOf("-D");
    const dir = dirIndex === -1 ? null : (args[dirIndex + 1] ?? null);
    if (dir?.startsWith(path.join(dataDir, "tenant-postgres"))) return "tenant_postgres";
    if (dir) return "postgres";
  }
  if (path.basename(args[0] ?? "").startsWith("redis-server")) return "tenant_redis";
  return null;
}

/** Every process under the supervisor, with the component it belongs to (children inherit their parent's). */
export async function sampleTree(supervisorPid: number, dataDir: string): Promise<ProcessSample[]> {
  const processes = await allProcesses();
  const children = new Map<number, number[]>();
  for (const proc of processes.values()) {
    const list = children.get(proc.ppid) ?? [];
    list.push(proc.pid);
    children.set(proc.ppid, list);
  }
  const samples: ProcessSample[] = [];
  const visit = async (pid: number, inherited: Component) => {
    const proc = processes.get(pid);
    if (!proc) return;
    const component = ownComponent(proc, supervisorPid, dataDir) ?? inherited;
    samples.push({ pid, ppid: proc.ppid, component, ticks: proc.ticks, rssKb: await rssKb(pid) });
    for (const child of children.get(pid) ?? []) await visit(child, component);
  };
  await visit(supervisorPid, "other");
  return samples;
}
