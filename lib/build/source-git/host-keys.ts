// SSH host keys of a git server: their fingerprints, and the first-use scan (ssh-keyscan through the Executor) whose
// answer the worker records for a person to confirm before any clone trusts it.
import { createHash } from "node:crypto";
import sshpk from "sshpk";
import { CommandError, type Executor } from "@/lib/infra/exec";
import { SourceError } from "../source-errors";

export type HostKey = { keyType: string; publicKey: string; fingerprint: string };

const KEY_TYPES = new Set([
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "ssh-rsa",
]);
const SCAN_MAX_OUTPUT_BYTES = 64 * 1024;

/** "SHA256:<base64 without padding>" of the key blob, as ssh-keygen -lf prints it. */
export function sshFingerprint(publicKeyBase64: string): string {
  const digest = createHash("sha256").update(Buffer.from(publicKeyBase64, "base64")).digest("base64");
  return `SHA256:${digest.replace(/=+$/, "")}`;
}

/**
 * One host key from a known_hosts-style type and blob, or null when it is not a well-formed key of an accepted type:
 * parsed by sshpk (a maintained SSH key parser) so a blob whose inner type differs from the stated one is refused.
 */
export function parseHostKey(keyType: string, publicKey: string): HostKey | null {
  if (!KEY_TYPES.has(keyType) || !/^[A-Za-z0-9+/]+={0,2}$/.test(publicKey) || publicKey.length > 4096) return null;
  try {
    const key = sshpk.parseKey(`${keyType} ${publicKey}`, "ssh");
    const blob = key.toBuffer("rfc4253").toString("base64");
    if (blob !== publicKey) return null;
  } catch {
    return null;
  }
  return { keyType, publicKey, fingerprint: sshFingerprint(publicKey) };
}

/** A known_hosts line for a key under the name ssh checks it by (HostKeyAlias in ssh.ts). */
export function knownHostsLine(alias: string, key: Pick<HostKey, "keyType" | "publicKey">): string {
  return `${alias} ${key.keyType} ${key.publicKey}`;
}

export type ScanOptions = {
  /** The address to connect to (the one the host name was checked to resolve to), or the host itself. */
  address: string;
  port: number;
  timeoutMs: number;
  keyscanPath?: string;
  pathEnv?: string;
};

/**
 * Asks the server for its host keys with ssh-keyscan (argument array, no shell, bounded time and output). The keys
 * are not trusted by this: the caller records them for confirmation. Throws SourceError clone_failed (retryable)
 * when the server cannot be reached or presents no usable key.
 */
export async function scanHostKeys(exec: Executor, options: ScanOptions): Promise<HostKey[]> {
  const timeoutS = Math.max(1, Math.min(30, Math.floor(options.timeoutMs / 1000)));
  const address = options.address.replace(/^\[|\]$/g, "");
  const args = ["-T", String(timeoutS), "-p", String(options.port), "-t", "ed25519,ecdsa,rsa", "--", address];
  let stdout: string;
  try {
    const result = await exec(options.keyscanPath ?? "ssh-keyscan", args, {
      timeoutMs: options.timeoutMs,
      env: { PATH: options.pathEnv ?? "/usr/local/bin:/usr/bin:/bin", LANG: "C", LC_ALL: "C" },
      maxOutputBytes: SCAN_MAX_OUTPUT_BYTES,
    });
    stdout = result.stdout;
  } catch (error) {
    if (error instanceof CommandError && error.kind === "spawn") {
      throw new SourceError("clone_failed", "ssh-keyscan is not available on the server.", { cause: error });
    }
    throw new SourceError("clone_failed", "The git server's SSH host keys could not be read.", {
      cause: error,
      retryable: true,
    });
  }
  const keys: HostKey[] = [];
  for (const line of stdout.split("\n")) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 3 || fields[0]?.startsWith("#")) continue;
    const key = parseHostKey(fields[1] ?? "", fields[2] ?? "");
    if (key && !keys.some((known) => known.publicKey === key.publicKey)) keys.push(key);
  }
  if (keys.length === 0) {
    throw new SourceError("clone_failed", "The git server presented no SSH host key.", { retryable: true });
  }
  return keys;
}
