// HTTPS extras: a read token for private repositories, and an operator's CA bundle for internal forges.
import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rename, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

/**
 * The token as an `Authorization: Basic` header, given to git through GIT_CONFIG_COUNT/KEY/VALUE (git >= 2.31):
 * configuration from the environment, like `-c`, but not in the process's argument list, which every local user can
 * read in /proc; the environment is readable by the worker's user only. Never in the URL (git would store it in
 * .git/config and print it in errors). Answers the environment and the strings to scrub from anything shown.
 */
export function tokenAuthEnv(auth: { username: string; token: string }): {
  env: Record<string, string>;
  secrets: string[];
} {
  const basic = Buffer.from(`${auth.username}:${auth.token}`, "utf8").toString("base64");
  return {
    env: {
      GIT_CONFIG_COUNT: "1",
      GIT_CONFIG_KEY_0: "http.extraHeader",
      GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
    },
    secrets: [auth.token, basic],
  };
}

export const SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";

const bundles = new Map<string, Promise<string>>();

/**
 * git's http.sslCAInfo replaces the system's trust store rather than adding to it, so TUSSILAGO_GIT_CA_FILE is
 * combined with the system bundle into one file. With `dir` (the worker passes the data directory's git/, which
 * only the platform's user can write), the file is named by the SHA-256 of its content: every worker process and
 * restart reuses it, and a changed CA file makes a new one. It is written to a temporary name and renamed, so a
 * concurrent worker never reads half of it. Without `dir`, a fresh private directory (mkdtemp, 0700): a fixed name
 * in a shared temp directory could be prepared by another local user to slip in a CA. Built once per process (per
 * input); answers its path.
 */
export function combinedCaBundle(caFile: string, dir?: string, systemBundle = SYSTEM_CA_BUNDLE): Promise<string> {
  const cacheKey = `${caFile}\u0000${dir ?? ""}\u0000${systemBundle}`;
  let bundle = bundles.get(cacheKey);
  if (!bundle) {
    bundle = (async () => {
      const extra = await readFile(caFile, "utf8");
      if (!extra.includes("-----BEGIN CERTIFICATE-----")) {
        throw new Error(`TUSSILAGO_GIT_CA_FILE (${caFile}) holds no PEM certificate`);
      }
      const system = await readFile(systemBundle, "utf8").catch(() => "");
      const content = `${system.trimEnd()}\n${extra.trimEnd()}\n`;
      if (!dir) {
        const file = path.join(await mkdtemp(path.join(tmpdir(), "tussilago-git-ca-")), "git-ca-bundle.pem");
        await writeFile(file, content, { mode: 0o644, flag: "wx" });
        return file;
      }
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const digest = createHash("sha256").update(content).digest("hex").slice(0, 32);
      const file = path.join(dir, `git-ca-bundle-${digest}.pem`);
      const existing = await readFile(file, "utf8").catch(() => null);
      if (existing === content) return file;
      const temporary = `${file}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
      await writeFile(temporary, content, { mode: 0o644, flag: "wx" });
      await rename(temporary, file);
      return file;
    })();
    bundle.catch(() => bundles.delete(cacheKey));
    bundles.set(cacheKey, bundle);
  }
  return bundle;
}
