"use client";

// A live list fed by a server action that answers an ActionState: the server-rendered data first (again after each
// render, e.g. once an action revalidated the page), then polls through usePolling. A failed or refused poll keeps
// the last data, says why, and tries again after `retryMs`.
import { useEffect, useState } from "react";
import { type PollingOptions, usePolling } from "@/components/use-polling";
import type { ActionState } from "@/lib/actions";

export type ActionPollingOptions<T> = {
  /** Milliseconds until the next poll after a successful one, from the new data; null stops polling. */
  nextDelay: (data: T) => number | null;
  retryMs: number;
  /** Shown when the action answered without data. */
  failedMessage: string;
  /** usePolling's options, from the data shown now (e.g. poll only while something is in progress). */
  polling: (data: T) => Omit<PollingOptions, "errorDelayMs">;
};

export function useActionPolling<T>(
  initial: T,
  load: () => Promise<ActionState<T>>,
  options: ActionPollingOptions<T>,
): { data: T; problem: string | null } {
  const [data, setData] = useState(initial);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => setData(initial), [initial]);
  const { nextDelay, retryMs, failedMessage, polling } = options;

  usePolling(
    async ({ stopped }) => {
      try {
        const result = await load();
        if (stopped()) return null;
        if (result.status !== "success" || !result.data) {
          setProblem(result.message ?? failedMessage);
          return retryMs;
        }
        setData(result.data);
        setProblem(null);
        return nextDelay(result.data);
      } catch {
        if (!stopped()) setProblem("Lost contact with the server.");
        return retryMs;
      }
    },
    { ...polling(data), errorDelayMs: retryMs },
  );
  return { data, problem };
}
