// One child of the supervisor (scripts/start.ts), the web server or the worker, kept running: a crash (any exit the
// supervisor did not ask for, SIGKILL included) restarts it after the backoff of lib/services/restart-policy.ts, and
// repeated crashes hand the decision to give up back to the supervisor, which stops everything.
import type { ChildProcess } from "node:child_process";
import type { Logger } from "pino";
import { type CrashHistory, decideRestart, NO_CRASHES, type RestartPolicy } from "@/lib/services/restart-policy";

export type SupervisedProcessOptions = {
  /** "web" or "worker": in every log line and in the give-up reason. */
  name: string;
  /** Starts the process; called again for every restart. */
  start: () => ChildProcess;
  policy: RestartPolicy;
  log: Logger;
  /** Called once when the policy gives up; the process is not restarted after that. */
  onGiveUp: (reason: string) => void;
  /** After SIGTERM, how long stop() waits before SIGKILL. */
  stopGraceMs: number;
  now?: () => number;
};

export type SupervisedProcess = {
  /** The running process's pid; undefined while it waits for a restart or after it stopped. */
  pid(): number | undefined;
  /** Cancels a pending restart, sends SIGTERM (SIGKILL after the grace period) and resolves once it is gone. */
  stop(): Promise<void>;
};

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function seconds(ms: number): number {
  return Math.round(ms / 100) / 10;
}

export function superviseProcess(options: SupervisedProcessOptions): SupervisedProcess {
  const { name, policy, log } = options;
  const now = options.now ?? Date.now;
  let history: CrashHistory = NO_CRASHES;
  let current: ChildProcess | null = null;
  let restartTimer: NodeJS.Timeout | null = null;
  let stopping = false;
  let restarts = 0;

  const crashed = (startedAt: number, code: number | null, signal: NodeJS.Signals | null) => {
    const crashedAt = now();
    const decision = decideRestart(policy, history, { startedAt, crashedAt });
    history = decision.history;
    const fields = {
      process: name,
      code,
      signal,
      upMs: crashedAt - startedAt,
      crashesInWindow: decision.crashesInWindow,
    };
    if (decision.action === "give-up") {
      stopping = true;
      const reason = `${name} crashed ${decision.crashesInWindow} times within ${seconds(policy.windowMs)} s`;
      log.fatal(fields, `${reason}; giving up`);
      options.onGiveUp(reason);
      return;
    }
    log.error(
      { ...fields, restartInMs: decision.delayMs },
      `${name} exited unexpectedly; restarting it in ${seconds(decision.delayMs)} s`,
    );
    restartTimer = setTimeout(() => {
      restartTimer = null;
      if (stopping) return;
      restarts += 1;
      const child = launch();
      log.info({ process: name, pid: child?.pid, restarts }, `${name} restarted`);
    }, decision.delayMs);
  };

  const launch = (): ChildProcess | null => {
    const startedAt = now();
    let child: ChildProcess;
    try {
      child = options.start();
    } catch (error) {
      log.error({ process: name, err: error }, `${name} could not be started`);
      crashed(startedAt, null, null);
      return null;
    }
    current = child;
    let ended = false;
    const onEnd = (code: number | null, signal: NodeJS.Signals | null) => {
      if (ended) return;
      ended = true;
      if (current === child) current = null;
      if (!stopping) crashed(startedAt, code, signal);
    };
    child.once("exit", onEnd);
    // A spawn that fails (no pid) may emit "error" without "exit"; an error of a running process is followed by its
    // exit, which onEnd handles once.
    child.once("error", (error) => {
      log.error({ process: name, err: error }, `${name} failed`);
      if (child.pid === undefined) onEnd(null, null);
    });
    return child;
  };

  launch();

  return {
    pid: () => current?.pid,
    stop: () => {
      stopping = true;
      if (restartTimer) clearTimeout(restartTimer);
      restartTimer = null;
      const child = current;
      if (!child || hasExited(child)) return Promise.resolve();
      return new Promise((resolve) => {
        const force = setTimeout(() => {
          log.warn({ process: name }, "did not stop in time; killing it");
          child.kill("SIGKILL");
        }, options.stopGraceMs);
        child.once("exit", () => {
          clearTimeout(force);
          resolve();
        });
        child.kill("SIGTERM");
      });
    },
  };
}
