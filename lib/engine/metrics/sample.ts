// Resource sampling (issue #17): one `podman stats` for every running container per sample (ContainerHost.statsAll),
// matched to replicas by the deterministic container names the release engine gives them (one query for all of
// them, never one per container), stored as one MetricSample row per replica. Containers that are not the
// platform's, or whose replica row is gone, are ignored.
//
// CPU is stored as a share of the replica's CPU limit (the app's cpuMillis): 1 is the whole limit, whatever the
// host's CPU count. Network counters are podman's totals since the container started; the row keeps the difference
// from the previous sample of the same replica (or the whole total when the counter went down: a new container).
import type { Logger } from "pino";
import type { Db } from "@/lib/db";
import type { ContainerHost } from "@/lib/infra/container-host";

export type SampleDeps = {
  db: Db;
  podman: Pick<ContainerHost, "statsAll">;
  log: Logger;
  now?: () => number;
};

export type SampleReport = { containers: number; samples: number };

const MIB = 1024 * 1024;
/** A previous sample older than this is not a baseline for network differences (the worker was down). */
const BASELINE_MAX_AGE_MS = 5 * 60_000;

type Baseline = { appId: string; process: string; replica: number; netInTotal: bigint; netOutTotal: bigint };

export async function sampleResources(deps: SampleDeps): Promise<SampleReport> {
  const { db, podman } = deps;
  const now = (deps.now ?? Date.now)();
  // One timestamp for the whole sample, to the second: the API groups replicas of one sample by it.
  const at = new Date(Math.floor(now / 1000) * 1000);
  const stats = (await podman.statsAll()).filter((entry) => entry.name.startsWith("tsl-"));
  if (stats.length === 0) return { containers: 0, samples: 0 };

  const replicas = await db.replica.findMany({
    where: { containerName: { in: stats.map((entry) => entry.name) } },
    select: {
      appId: true,
      process: true,
      index: true,
      containerName: true,
      restartCount: true,
      app: { select: { cpuMillis: true, memoryMb: true } },
    },
  });
  if (replicas.length === 0) return { containers: stats.length, samples: 0 };
  const byName = new Map(replicas.map((replica) => [replica.containerName, replica]));
  const appIds = [...new Set(replicas.map((replica) => replica.appId))];
  const baselines = await db.$queryRaw<Baseline[]>`
    SELECT DISTINCT ON ("appId", "process", "replica") "appId"::text AS "appId", "process", "replica",
           "netInTotal", "netOutTotal"
    FROM "MetricSample"
    WHERE "appId" = ANY(${appIds}::uuid[]) AND "at" > ${new Date(now - BASELINE_MAX_AGE_MS)} AND "at" < ${at}
    ORDER BY "appId", "process", "replica", "at" DESC`;
  const baselineOf = new Map(baselines.map((row) => [`${row.appId}/${row.process}/${row.replica}`, row]));

  const rows = [];
  for (const entry of stats) {
    const replica = byName.get(entry.name);
    if (replica === undefined) continue;
    const cores = Math.max(replica.app.cpuMillis, 1) / 1000;
    const baseline = baselineOf.get(`${replica.appId}/${replica.process}/${replica.index}`);
    const netIn = BigInt(Math.round(entry.netInBytes));
    const netOut = BigInt(Math.round(entry.netOutBytes));
    rows.push({
      appId: replica.appId,
      process: replica.process,
      replica: replica.index,
      at,
      cpu: entry.cpuPercent / 100 / cores,
      memoryBytes: BigInt(Math.round(entry.memoryUsageBytes)),
      memoryLimitBytes: BigInt(
        entry.memoryLimitBytes > 0 ? Math.round(entry.memoryLimitBytes) : replica.app.memoryMb * MIB,
      ),
      netInBytes: difference(netIn, baseline?.netInTotal),
      netOutBytes: difference(netOut, baseline?.netOutTotal),
      netInTotal: netIn,
      netOutTotal: netOut,
      pids: entry.pids,
      restarts: replica.restartCount,
    });
  }
  // skipDuplicates: a retried or overlapping sample of the same second writes nothing twice.
  const { count } = await db.metricSample.createMany({ data: rows, skipDuplicates: true });
  return { containers: stats.length, samples: count };
}

function difference(total: bigint, previous: bigint | undefined): bigint {
  if (previous === undefined) return 0n;
  return total >= previous ? total - previous : total;
}
