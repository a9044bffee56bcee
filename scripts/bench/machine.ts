// The machine a run's figures came from: they mean nothing without it.
import { readFileSync } from "node:fs";
import os from "node:os";

export type Machine = {
  cpus: number;
  model: string;
  memory: string;
  node: string;
  os: string;
  kernel: string;
  /** 1-minute load average when the run started and when it ended: other work on the machine skews every figure. */
  load_average: { start: number; end: number };
};

function osName(): string {
  try {
    const release = readFileSync("/etc/os-release", "utf8");
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(release)?.[1];
    if (pretty) return pretty;
  } catch {
    // Not Linux, or a minimal container: the generic name below is enough.
  }
  return `${os.type()} ${os.release()}`;
}

export function machine(loadAtStart: number): Machine {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    model: cpus[0]?.model.trim() ?? "unknown",
    memory: `${Math.round(os.totalmem() / 1024 ** 3)} GiB`,
    node: process.version,
    os: osName(),
    kernel: os.release(),
    load_average: { start: Math.round(loadAtStart * 100) / 100, end: Math.round((os.loadavg()[0] ?? 0) * 100) / 100 },
  };
}
