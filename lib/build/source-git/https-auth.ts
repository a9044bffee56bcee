// HTTPS extras: a read token for private repositories, and an operator's CA bundle for internal forges.
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
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
 * combined with the system bundle into one file, built once per process (per input). It is written into a fresh
 * private directory (mkdtemp, 0700) unless `dir` is given: a fixed name in a shared temp directory could be
 * prepared by another local user to slip in a CA. Answers its path.
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
      const target = dir ?? (await mkdtemp(path.join(tmpdir(), "tussilago-git-ca-")));
      const file = path.join(target, `git-ca-bundle-${process.pid}-${bundles.size}.pem`);
      await writeFile(file, `${system.trimEnd()}\n${extra.trimEnd()}\n`, { mode: 0o644, flag: "wx" });
      return file;
    })();
    bundle.catch(() => bundles.delete(cacheKey));
    bundles.set(cacheKey, bundle);
  }
  return bundle;
}
