// Input rules for apps and env vars (docs/security.md "Hostile inputs"): app names are DNS labels that end up in
// hostnames and container labels; env keys are POSIX names and never the ones the platform sets itself.
import { z } from "zod";
import { lineText, storedText } from "@/lib/domain/text";

export const APP_NAME_MAX = 39;

const RESERVED_APP_NAMES = new Set([
  "admin",
  "api",
  "app",
  "apps",
  "caddy",
  "console",
  "dashboard",
  "default",
  "internal",
  "localhost",
  "platform",
  "portal",
  "root",
  "status",
  "system",
  "tussilago",
  "www",
]);

/** No `--` anywhere (punycode's marker in DNS labels). */
export const NO_DOUBLE_HYPHEN = /^(?!.*--)/;

/** Refuses exactly these words (and, with `prefix`, anything starting with it): a lookahead, as JSON Schema reads. */
export function excludingWords(words: Iterable<string>, prefix?: string): RegExp {
  const escaped = [...words].map((word) => word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^(?!(?:${escaped.join("|")})$)${prefix ? `(?!${prefix})` : ""}`);
}

export const appName = lineText()
  .max(APP_NAME_MAX, `At most ${APP_NAME_MAX} characters.`)
  .regex(
    /^[a-z]([a-z0-9-]*[a-z0-9])?$/,
    "Use lower-case letters, digits and hyphens, starting with a letter and not ending with a hyphen.",
  )
  // Regexes rather than refinements, so the OpenAPI document carries the rules (lib/api/openapi.ts).
  .regex(NO_DOUBLE_HYPHEN, "No consecutive hyphens.")
  .regex(excludingWords(RESERVED_APP_NAMES), "This name is reserved.");

export const ENV_KEY_PATTERN = /^[A-Z_][A-Z0-9_]*$/;
export const ENV_VALUE_MAX_BYTES = 32 * 1024;
export const ENV_TOTAL_MAX_BYTES = 256 * 1024;
export const ENV_MAX_KEYS = 200;

/** Set by the platform at release (PORT, attached databases), or owned by the runtime. */
const RESERVED_ENV_KEYS = new Set([
  "PORT",
  "DATABASE_URL",
  "PGHOST",
  "PGPORT",
  "PGUSER",
  "PGPASSWORD",
  "PGDATABASE",
  "REDIS_URL",
  "REDIS_HOST",
  "REDIS_PORT",
  "REDIS_USER",
  "REDIS_PASSWORD",
  "REDIS_KEY_PREFIX",
  "HOME",
  "PATH",
  "HOSTNAME",
  "PYTHONUNBUFFERED",
]);

export function isReservedEnvKey(key: string): boolean {
  return RESERVED_ENV_KEYS.has(key) || key.startsWith("TUSSILAGO_");
}

export const envKey = z
  .string()
  .min(1)
  .max(128, "At most 128 characters.")
  .regex(ENV_KEY_PATTERN, "Use upper-case letters, digits and underscores, not starting with a digit.")
  .regex(excludingWords(RESERVED_ENV_KEYS, "TUSSILAGO_"), "This variable is set by the platform.");

// Values may span lines and hold tabs (PEM keys, JSON); storedText refuses NUL and lone surrogates.
export const envValue = storedText().refine(
  (value) => Buffer.byteLength(value) <= ENV_VALUE_MAX_BYTES,
  `At most ${ENV_VALUE_MAX_BYTES} bytes.`,
);

// One line: lineText refuses newlines, every other control character and bidi overrides.
const command = lineText({ trim: true }).max(1000);

const relativePath = lineText({ trim: true })
  .max(255)
  .refine(
    (value) => value === "" || (!value.startsWith("/") && !value.split("/").includes("..") && !/[\0\\]/.test(value)),
    "A relative path inside the source, without '..'.",
  );

export const healthCheckPath = lineText()
  .max(255)
  .regex(/^\/[A-Za-z0-9._~!$&'()*+,;=:@/-]*$/, "A path starting with '/', without spaces, braces or '..'.")
  .refine((value) => !value.split("/").includes(".."), "No '..' segments.");

export const pythonVersion = lineText().regex(/^3\.\d{1,2}$/, "Like 3.12.");

export const MAX_PROCESS_TYPES = 10;

/**
 * A process type: a DNS label of at most 30 characters (it becomes a podman label and part of container names).
 * web and release have their own settings (webCommand, releaseCommand).
 */
export const processType = lineText()
  .max(30, "At most 30 characters.")
  .regex(/^[a-z]([a-z0-9-]*[a-z0-9])?$/, "Use lower-case letters, digits and hyphens, starting with a letter.")
  .regex(NO_DOUBLE_HYPHEN, "No consecutive hyphens.")
  .regex(excludingWords(["web", "release"]), "Set web and release with webCommand and releaseCommand.");

/** Process types added or overridden in settings ({"worker": "celery -A proj worker"}); null removes them all. */
export const processCommands = z
  .record(processType, command)
  .refine((value) => Object.keys(value).length <= MAX_PROCESS_TYPES, `At most ${MAX_PROCESS_TYPES} process types.`)
  .refine((value) => Object.values(value).every((text) => text !== ""), "A process command cannot be empty.");

/** The stored App.processCommands, read defensively (old or hand-edited rows): only well-formed entries. */
export function storedProcessCommands(value: unknown): Record<string, string> {
  const parsed = processCommands.safeParse(value);
  return parsed.success ? parsed.data : {};
}

/** The app settings a user can change (all optional in an update). */
export const appSettings = z.strictObject({
  subdirectory: relativePath.nullable().optional(),
  pythonVersion: pythonVersion.nullable().optional(),
  installCommand: command.nullable().optional(),
  webCommand: command.nullable().optional(),
  releaseCommand: command.nullable().optional(),
  // false: no proposed `manage.py migrate` release command and no build-time collectstatic (docs/python.md).
  djangoSetup: z.boolean().optional(),
  memoryMb: z.number().int().min(128).max(16_384).optional(),
  // In CPUs, the unit people set it in (the portal and the CLI), though it is stored in thousandths.
  cpuMillis: z.number().int().min(100, "Use at least 0.1 CPU.").max(8_000, "Use at most 8 CPUs.").optional(),
  healthCheckPath: healthCheckPath.optional(),
  replicas: z.number().int().min(0).max(20).optional(),
  processes: processCommands.nullable().optional(),
});
export type AppSettingsInput = z.infer<typeof appSettings>;
