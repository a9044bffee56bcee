import { z } from "zod";
import { PodmanError, type PodmanOperation } from "./errors";
import type { PortBinding } from "./types";

// Output schemas. Podman's JSON carries far more; only what the platform reads is declared (zod drops the rest).

const labelsSchema = z.record(z.string(), z.string()).nullish();

const portMappingSchema = z.object({
  host_ip: z.string().optional(),
  container_port: z.number().int(),
  host_port: z.number().int(),
  range: z.number().int().optional(),
  protocol: z.string().optional(),
});

export const psSchema = z.array(
  z.object({
    Id: z.string().regex(/^[0-9a-f]{64}$/),
    Names: z.array(z.string()).min(1),
    Image: z.string(),
    ImageID: z.string().optional(),
    State: z.string(),
    Status: z.string().optional(),
    Labels: labelsSchema,
    Created: z.union([z.string(), z.number()]).optional(),
    ExitCode: z.number().int().optional(),
    Ports: z.array(portMappingSchema).nullish(),
  }),
);

export const containerInspectSchema = z
  .array(
    z.object({
      Id: z.string().regex(/^[0-9a-f]{64}$/),
      Name: z.string(),
      Created: z.string().optional(),
      Image: z.string(),
      ImageName: z.string().optional(),
      State: z.object({
        Status: z.string(),
        Running: z.boolean(),
        ExitCode: z.number().int(),
        OOMKilled: z.boolean().optional(),
        StartedAt: z.string().optional(),
        FinishedAt: z.string().optional(),
      }),
      Config: z.object({ Labels: labelsSchema }).optional(),
      NetworkSettings: z
        .object({
          Ports: z
            .record(z.string(), z.array(z.object({ HostIp: z.string(), HostPort: z.string() })).nullable())
            .nullish(),
        })
        .optional(),
    }),
  )
  .length(1);

export const imageInspectSchema = z
  .array(
    z.object({
      Id: z.string().regex(/^[0-9a-f]{64}$/),
      Digest: z.string().optional(),
      RepoTags: z.array(z.string()).nullish(),
      Created: z.string().optional(),
      Size: z.number().optional(),
      Labels: labelsSchema,
      Config: z
        .object({
          User: z.string().optional(),
          ExposedPorts: z.record(z.string(), z.unknown()).nullish(),
          OnBuild: z.array(z.string()).nullish(),
        })
        .optional(),
    }),
  )
  .length(1);

export const statsSchema = z.array(
  z.object({
    id: z.string(),
    name: z.string(),
    cpu_percent: z.string().optional(),
    mem_usage: z.string().optional(),
    mem_percent: z.string().optional(),
    net_io: z.string().optional(),
    block_io: z.string().optional(),
    pids: z.string().optional(),
  }),
);

export const versionSchema = z.object({
  Client: z.object({ Version: z.string(), APIVersion: z.string().optional(), OsArch: z.string().optional() }),
  Server: z.object({ Version: z.string() }).optional(),
});

export const infoSchema = z.object({
  host: z.object({
    arch: z.string(),
    os: z.string().optional(),
    kernel: z.string().optional(),
    cgroupVersion: z.string().optional(),
    cgroupManager: z.string().optional(),
    ociRuntime: z.object({ name: z.string(), path: z.string().optional(), version: z.string().optional() }).optional(),
    security: z.object({ rootless: z.boolean() }).optional(),
  }),
  store: z.object({ graphDriverName: z.string().optional() }).optional(),
  version: z.object({ Version: z.string() }).optional(),
});

// `podman system df --format json`: one object per type ("Images", "Containers", "Local Volumes"). Size and
// Reclaimable are human strings ("281MB", "168MB (59%)"); the Raw* fields carry the bytes, which is all we read.
export const systemDfSchema = z.array(
  z.object({
    Type: z.string(),
    Total: z.number().int().nonnegative(),
    Active: z.number().int().nonnegative(),
    RawSize: z.number().nonnegative(),
    RawReclaimable: z.number().nonnegative(),
  }),
);

export function parseJson<T>(operation: PodmanOperation, schema: z.ZodType<T>, stdout: string): T {
  let data: unknown;
  try {
    data = JSON.parse(stdout);
  } catch {
    throw new PodmanError("unexpected_output", operation, "output is not JSON");
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    // Paths of the failing fields only: values may be tenant data (labels, log lines).
    const fields = parsed.error.issues.map((issue) => issue.path.join(".") || "(root)").slice(0, 5);
    throw new PodmanError("unexpected_output", operation, `unexpected JSON shape at ${fields.join(", ")}`);
  }
  return parsed.data;
}

// ---------------------------------------------------------------------------------------------------------------
// Output helpers
export function portsFromInspect(
  ports: Record<string, { HostIp: string; HostPort: string }[] | null> | null | undefined,
) {
  const result: PortBinding[] = [];
  for (const [key, bindings] of Object.entries(ports ?? {})) {
    const match = /^(\d{1,5})\/([a-z]+)$/.exec(key);
    if (match === null || bindings === null) continue;
    for (const binding of bindings) {
      const hostPort = Number(binding.HostPort);
      if (!Number.isInteger(hostPort) || hostPort <= 0) continue;
      result.push({ containerPort: Number(match[1]), protocol: match[2] ?? "tcp", hostIp: binding.HostIp, hostPort });
    }
  }
  return result;
}

export function portsFromPs(ports: z.infer<typeof portMappingSchema>[] | null | undefined): PortBinding[] {
  const result: PortBinding[] = [];
  for (const port of ports ?? []) {
    // A mapping may cover a range of ports; expand it so callers see one entry per port.
    const range = Math.max(1, port.range ?? 1);
    for (let i = 0; i < range; i += 1) {
      result.push({
        containerPort: port.container_port + i,
        protocol: port.protocol ?? "tcp",
        hostIp: port.host_ip ?? "",
        hostPort: port.host_port + i,
      });
    }
  }
  return result;
}

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

export function parseSize(text: string | undefined): number | null {
  const match = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]+)\s*$/.exec(text ?? "");
  if (match === null) return null;
  const unit = SIZE_UNITS[(match[2] ?? "").toLowerCase()];
  return unit === undefined ? null : Math.round(Number(match[1]) * unit);
}

export function parsePercent(text: string | undefined): number | null {
  const match = /^\s*([0-9]+(?:\.[0-9]+)?)\s*%\s*$/.exec(text ?? "");
  return match === null ? null : Number(match[1]);
}

export function parseCount(text: string | undefined): number | null {
  return text !== undefined && /^\s*[0-9]+\s*$/.test(text) ? Number(text) : null;
}
