// Processes, cron jobs and one-off runs on the real host (docs/processes.md): the wsgi-stdlib example with a `worker`
// process type added in its settings; both types must run under the sandbox runtime, a cron job every minute must
// produce a succeeded run with its output, and a one-off run must print its output and end with its exit code.
import { randomBytes } from "node:crypto";
import path from "node:path";
import type { Env } from "@/lib/env";
import { type Api, type App, deploy, field, tarball } from "./api";
import { type Front, waitServed } from "./caddy";
import { containersOf, podman } from "./host";
import { DEPLOY_DEADLINE_MS, EXAMPLES_DIR, fail, OPERATION_DEADLINE_MS, phase, say, waitUntil } from "./support";

const EXAMPLE = "wsgi-stdlib";
const GREETING = "Hello from a standard-library WSGI app on Tussilago!";
// A worker that says it is alive every few seconds, in one line (commands are single lines).
const WORKER_COMMAND = `python3 -u -c "import time; [print('worker alive', flush=True) or time.sleep(5) for _ in iter(int, 1)]"`;
// The scheduler ticks each minute: the first run comes within about two.
const CRON_DEADLINE_MS = 4 * 60_000;

type ProcessView = { desired: number; running: number; crashed: number };
type AppWithProcesses = App & { processes?: Record<string, ProcessView> };
type Run = { id: string; kind: string; status: string; exitCode: number | null; reason: string | null };

async function runOutput(api: Api, runId: string): Promise<string> {
  const chunk = await api("GET", `/api/v1/runs/${runId}/logs?offset=0`);
  return String(chunk.text ?? "");
}

async function waitFinal(api: Api, runId: string, deadlineMs: number): Promise<Run> {
  return await waitUntil(`run ${runId} to end`, deadlineMs, async () => {
    const run = field<Run>(await api("GET", `/api/v1/runs/${runId}`), "run");
    return ["queued", "running"].includes(run.status) ? null : run;
  });
}

export async function smokeProcesses(api: Api, env: Env, front: Front): Promise<void> {
  const marker = randomBytes(4).toString("hex");
  let appId: string | null = null;
  try {
    const app = field<App>(
      await api("POST", "/api/v1/apps", {
        name: `smoke-procs-${marker}`,
        settings: { healthCheckPath: "/", processes: { worker: WORKER_COMMAND } },
      }),
      "app",
    );
    appId = app.id;
    await phase("processes: deploy web and worker", async () => {
      await deploy(api, app.id, await tarball(path.join(EXAMPLES_DIR, EXAMPLE)));
      await waitServed(front, app.url, (body) => body.includes(GREETING));
    });

    await phase("processes: web and worker run under the sandbox runtime", async () => {
      const current = await waitUntil("one running container per type", OPERATION_DEADLINE_MS, async () => {
        const view = field<AppWithProcesses>(await api("GET", `/api/v1/apps/${app.id}`), "app");
        const { web, worker } = view.processes ?? {};
        return web && worker && web.running === web.desired && worker.running === 1 ? view : null;
      });
      const names = await containersOf(env, app.id);
      const expected = (current.processes?.web?.desired ?? 0) + 1;
      if (names.length !== expected) fail(`expected ${expected} containers (web and worker), found ${names.length}`);
      for (const name of names) {
        const runtime = (await podman(env, ["inspect", "--format", "{{.OCIRuntime}}", name])).trim();
        if (runtime !== env.infra.ociRuntime) fail(`${name} runs under ${runtime}, not ${env.infra.ociRuntime}`);
      }
      const logs = await api("GET", `/api/v1/apps/${app.id}/logs?tail=200`);
      const lines = (logs.lines as { process?: string; text: string }[] | undefined) ?? [];
      if (!lines.some((line) => line.process === "worker" && line.text.includes("worker alive"))) {
        say("    (the worker's first lines are not collected yet; its container runs)");
      }
      say(`    ${names.length} container(s) under ${env.infra.ociRuntime}, worker included`);
    });

    await phase("processes: a one-off run prints its output and exit code", async () => {
      const started = await api(
        "POST",
        `/api/v1/apps/${app.id}/runs`,
        { command: `echo one-off ${marker}; exit 3`, timeoutSeconds: 300 },
        [202],
      );
      const run = await waitFinal(api, field<Run>(started, "run").id, DEPLOY_DEADLINE_MS);
      if (run.status !== "failed" || run.exitCode !== 3) {
        fail(`the run ended ${run.status} with exit code ${run.exitCode} (${run.reason ?? ""}), not failed with 3`);
      }
      const output = await runOutput(api, run.id);
      if (!output.includes(`one-off ${marker}`)) fail(`the run's output is ${JSON.stringify(output.slice(0, 300))}`);
      say(`    exit code 3, output "one-off ${marker}"`);
    });

    await phase("processes: a cron job every minute produces a succeeded run with its output", async () => {
      await api("PUT", `/api/v1/apps/${app.id}/cron`, {
        jobs: [{ name: "minutely", schedule: "* * * * *", command: `echo cron ${marker}`, timeoutSeconds: 120 }],
      });
      const run = await waitUntil("a succeeded cron run", CRON_DEADLINE_MS, async () => {
        const list = await api("GET", `/api/v1/apps/${app.id}/runs?limit=20`);
        const runs = (list.items as Run[] | undefined) ?? [];
        const failed = runs.find((each) => each.kind === "cron" && ["failed", "timed_out"].includes(each.status));
        if (failed) fail(`a cron run ended ${failed.status}: ${failed.reason ?? ""}`);
        return runs.find((each) => each.kind === "cron" && each.status === "succeeded") ?? null;
      });
      const output = await runOutput(api, run.id);
      if (!output.includes(`cron ${marker}`)) fail(`the cron run's output is ${JSON.stringify(output.slice(0, 300))}`);
      await api("PUT", `/api/v1/apps/${app.id}/cron`, { jobs: [] });
      say(`    cron run ${run.id} succeeded with "cron ${marker}"`);
    });
  } finally {
    if (appId) {
      const id = appId;
      await api("DELETE", `/api/v1/apps/${id}`, undefined, [202, 404]).catch(() => {});
      await waitUntil("the processes app to be deleted", OPERATION_DEADLINE_MS, async () => {
        const status = await api("GET", `/api/v1/apps/${id}`, undefined, [200, 404]);
        return status.error ? true : null;
      }).catch(() => say("    the processes app was not deleted in time"));
    }
  }
}
