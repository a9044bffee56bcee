import { isIP } from "node:net";
import { isAbsolute, normalize } from "node:path";
import { invalid, type PodmanOperation } from "./errors";
import type { ContainerFilter } from "./types";

// Every value that reaches podman's command line is checked here against a strict pattern first, so a hostile
// value fails with no side effect instead of being read by podman as a flag, a path or a second name.

// Deterministic names: "tsl-" + a UUID without dashes, then up to three short suffixes (release number, replica ...).
// 63 characters at most, so a name is also a valid DNS label / hostname.
const RESOURCE_NAME = /^tsl-[0-9a-f]{32}(?:-[0-9a-z]{1,12}){0,3}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TAG = "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}";
// Images the platform builds: always under localhost/ with a UUID-derived name, so a build can never overwrite a
// base image or another tenant's image.
const TENANT_IMAGE = new RegExp(`^localhost/tsl-[0-9a-f]{32}(?:-[0-9a-z]{1,12}){0,3}:${TAG}$`);
// Any image reference (docker/distribution grammar, lowercase repository, optional tag and digest) or image ID.
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const DOMAIN = "[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*(?::[0-9]{1,5})?";
const IMAGE_REF = new RegExp(
  `^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?::${TAG})?(?:@sha256:[0-9a-f]{64})?$`,
);
export const ENV_KEY = /^[A-Z_][A-Z0-9_]{0,127}$/;
export const BUILD_ARG_KEY = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const PROCESS_TYPE = /^[a-z][a-z0-9_-]{0,29}$/;
export const RUNTIME_NAME = /^(?:[A-Za-z0-9][A-Za-z0-9._-]{0,63}|\/[A-Za-z0-9._/-]{1,1023})$/;
export const RUNTIME_FLAG = /^[a-z][a-z0-9-]{0,63}(?:=[A-Za-z0-9._:/,=+-]{0,1024})?$/;
export const USER_SPEC = /^[0-9]{1,10}(?::[0-9]{1,10})?$/;
// Linux refuses a single argument of 128 KiB or more (MAX_ARG_STRLEN), counting the terminating NUL.
export const MAX_ARG_BYTES = 128 * 1024 - 1;
const MAX_NAME_LENGTH = 63;
const MAX_IMAGE_REF_LENGTH = 255;

export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
export const DEFAULT_COMMAND_TIMEOUT_MS = 60_000;
export const DEFAULT_RUN_TIMEOUT_MS = 120_000;
export const DEFAULT_JSON_OUTPUT_BYTES = 16 * 1024 * 1024;
// Under runsc the pids limit also counts gVisor's own threads (46 idle; docs/operations.md): small limits crash it.
export const DEFAULT_PIDS_LIMIT = 2048;
export const MIN_PIDS_LIMIT = 512;
export const BUILD_PIDS_LIMIT = 2048;
export const DEFAULT_TMP_SIZE_MIB = 64;
export const DEFAULT_STOP_SECONDS = 10;
export const DEFAULT_LOG_TAIL = 200;
export const CPU_PERIOD_US = 100_000;

export function isResourceName(value: string): boolean {
  return value.length <= MAX_NAME_LENGTH && RESOURCE_NAME.test(value);
}

export function isImageRef(value: string): boolean {
  return value.length <= MAX_IMAGE_REF_LENGTH && IMAGE_REF.test(value);
}

export function isTenantImageRef(value: string): boolean {
  return value.length <= MAX_IMAGE_REF_LENGTH && TENANT_IMAGE.test(value);
}

// `tsl-<uuid hex>[-suffix...]` from a UUID: the only way names for podman objects should be made.
export function toResourceName(uuid: string, ...suffixes: readonly (string | number)[]): string {
  if (!UUID.test(uuid)) throw invalid("config", "UUID");
  const name = ["tsl", uuid.replaceAll("-", ""), ...suffixes.map(String)].join("-");
  if (!isResourceName(name)) throw invalid("config", "name suffix");
  return name;
}

export function checkName(operation: PodmanOperation, value: string, what = "name"): string {
  if (!isResourceName(value)) throw invalid(operation, what);
  return value;
}

export function checkImageRef(operation: PodmanOperation, value: string): string {
  if (!isImageRef(value)) throw invalid(operation, "image reference");
  return value;
}

function checkUuid(operation: PodmanOperation, value: string, what: string): string {
  if (!UUID.test(value)) throw invalid(operation, what);
  return value;
}

export function checkAbsolutePath(operation: PodmanOperation, value: string, what: string): string {
  // normalize() === value also rules out "..", "." and doubled slashes; control characters never belong in our paths.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point.
  if (!isAbsolute(value) || normalize(value) !== value || /[\u0000-\u001f\u007f]/.test(value)) {
    throw invalid(operation, what);
  }
  return value;
}

export function checkInteger(
  operation: PodmanOperation,
  value: number,
  min: number,
  max: number,
  what: string,
): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) throw invalid(operation, what);
  return value;
}

export function checkCpus(operation: PodmanOperation, value: number): number {
  if (!Number.isFinite(value) || value < 0.01 || value > 512) throw invalid(operation, "CPU limit");
  return Math.round(value * 1000) / 1000;
}

export function checkKeyValue(
  operation: PodmanOperation,
  key: string,
  value: string,
  keyPattern: RegExp,
  what: string,
) {
  if (!keyPattern.test(key)) throw invalid(operation, `${what} name`);
  const pair = `${key}=${value}`;
  if (value.includes("\0") || Buffer.byteLength(pair) > MAX_ARG_BYTES) throw invalid(operation, `${what} value`);
  return pair;
}

// ---------------------------------------------------------------------------------------------------------------
// Labels

export const LABEL_MANAGED = "tussilago.managed";
export const LABEL_TEAM = "tussilago.team";
export const LABEL_APP = "tussilago.app";
export const LABEL_DEPLOYMENT = "tussilago.deployment";
export const LABEL_PROCESS = "tussilago.process";

export function labelPairs(operation: PodmanOperation, labels: ContainerFilter): string[] {
  const pairs = [`${LABEL_MANAGED}=true`];
  if (labels.team !== undefined) pairs.push(`${LABEL_TEAM}=${checkUuid(operation, labels.team, "team label")}`);
  if (labels.app !== undefined) pairs.push(`${LABEL_APP}=${checkUuid(operation, labels.app, "app label")}`);
  if (labels.deployment !== undefined) {
    pairs.push(`${LABEL_DEPLOYMENT}=${checkUuid(operation, labels.deployment, "deployment label")}`);
  }
  if (labels.process !== undefined) {
    if (!PROCESS_TYPE.test(labels.process)) throw invalid(operation, "process label");
    pairs.push(`${LABEL_PROCESS}=${labels.process}`);
  }
  return pairs;
}

export function isSubnet(value: string): boolean {
  const match = /^([0-9a-fA-F:.]+)\/([0-9]{1,3})$/.exec(value);
  if (match === null) return false;
  const family = isIP(match[1] ?? "");
  const bits = Number(match[2]);
  return (family === 4 && bits <= 32) || (family === 6 && bits <= 128);
}
