// Secrets at rest (env values, tenant credentials, queued mail): AES-256-GCM (node:crypto) with a key derived from
// TUSSILAGO_SECRET_KEY. Format: <version>.<iv>.<tag>.<ciphertext>, base64url parts.
// - v2 (encryptBound): the associated data binds the ciphertext to where it belongs (e.g. env var = app id + key),
//   so someone who can write the database but lacks the key cannot move a value to another app or variable: GCM
//   refuses to open it under another binding.
// - v1 (encryptSecret): unbound; still written for values with no stable row identity (queued mail) and still read.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { deriveKey } from "@/lib/env";

const V1 = "v1";
const V2 = "v2";

function seal(version: string, plaintext: string, key: Buffer, aad: Buffer | null): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  if (aad) cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return [version, iv, cipher.getAuthTag(), ciphertext]
    .map((part) => (typeof part === "string" ? part : part.toString("base64url")))
    .join(".");
}

function open(expectedVersion: string, sealed: string, key: Buffer, aad: Buffer | null): string {
  const [version, iv, tag, ciphertext] = sealed.split(".");
  if (version !== expectedVersion || !iv || !tag || ciphertext === undefined) {
    throw new Error(`not a ${expectedVersion} sealed secret`);
  }
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
  if (aad) decipher.setAAD(aad);
  decipher.setAuthTag(Buffer.from(tag, "base64url"));
  return Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64url")), decipher.final()]).toString("utf8");
}

/**
 * The associated data of a v2 ciphertext. A JSON array keeps the parts unambiguous (["a", "bc"] is not
 * ["ab", "c"]) and carries the version, so a v2 tag can never verify under another format.
 */
function bindingAad(binding: readonly string[]): Buffer {
  return Buffer.from(JSON.stringify(["tussilago", V2, ...binding]), "utf8");
}

export function encryptSecret(plaintext: string, key: Buffer = deriveKey("secretsAtRest")): string {
  return seal(V1, plaintext, key, null);
}

export function decryptSecret(sealed: string, key: Buffer = deriveKey("secretsAtRest")): string {
  return open(V1, sealed, key, null);
}

/** Seals a value bound to its place, e.g. ["env-var", appId, key]: it opens only with the same binding. */
export function encryptBound(
  plaintext: string,
  binding: readonly string[],
  key: Buffer = deriveKey("secretsAtRest"),
): string {
  return seal(V2, plaintext, key, bindingAad(binding));
}

/** Opens a v2 value under its binding; throws for another binding, a tampered value or a v1 value. */
export function decryptBound(
  sealed: string,
  binding: readonly string[],
  key: Buffer = deriveKey("secretsAtRest"),
): string {
  return open(V2, sealed, key, bindingAad(binding));
}

/** A value sealed before bindings existed, to be re-encrypted with encryptBound. */
export function isLegacySealed(sealed: string): boolean {
  return sealed.startsWith(`${V1}.`);
}
