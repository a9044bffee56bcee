// pino, JSON everywhere. The supervisor pretty-prints in development (scripts/start.ts), so every process writes
// the same structured lines and no logging worker threads run inside Next.js.
import pino, { type Logger } from "pino";
import { getEnv } from "@/lib/env";

export type LogContext = {
  requestId?: string;
  jobId?: string;
  task?: string;
  teamId?: string;
  appId?: string;
  operationId?: string;
  component?: string;
};

function levelFromEnv(): string {
  try {
    return getEnv().logLevel;
  } catch {
    return "info";
  }
}

let root: Logger | undefined;

export function getLogger(): Logger {
  root ??= pino({
    level: levelFromEnv(),
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      // Belt and braces: secrets are never logged on purpose, but a careless object must not leak them either.
      paths: ["password", "*.password", "secret", "*.secret", "token", "*.token", "authorization", "*.authorization"],
      censor: "[redacted]",
    },
  });
  return root;
}

export function logger(context: LogContext = {}): Logger {
  return Object.keys(context).length === 0 ? getLogger() : getLogger().child(context);
}
