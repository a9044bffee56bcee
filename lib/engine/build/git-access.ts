// The worker's side of private repositories: the GitAccess a clone asks (lib/build/source-git) for the app's
// credentials. The deploy key and the read token are unsealed here only, for the clone that needs them. SSH host keys:
// a clone trusts only confirmed keys of its host and port. With none recorded yet, the shipped keys of a known forge
// are recorded confirmed (github.com and gitlab.com from the shipped keys; codeberg.org, which publishes fingerprints
// only, from a scan whose keys must match them), and any other host's scanned keys are recorded unconfirmed and the
// deployment fails asking for a confirmation in the portal or the API.

import { SourceError } from "@/lib/build/source-errors";
import {
  type GitAccess,
  type HostKey,
  type ShippedHostKey,
  type SshTarget,
  scanHostKeys,
  shippedHostKeys,
} from "@/lib/build/source-git";
import { decryptBound } from "@/lib/crypto";
import type { Db } from "@/lib/db";
import { deployKeyBinding } from "@/lib/domain/deploy-keys";
import { DEFAULT_GIT_TOKEN_USERNAME, gitTokenBinding } from "@/lib/domain/git-tokens";
import type { GitHostKey } from "@/lib/generated/prisma/client";
import type { Executor } from "@/lib/infra/exec";

const KEYSCAN_TIMEOUT_MS = 20_000;
// The fingerprint people compare first: what `ssh` itself prints for a modern server.
const KEY_TYPE_ORDER = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa"];

function hostLabel(host: string, port: number): string {
  const name = host.includes(":") ? `[${host}]` : host;
  return port === 22 ? name : `${name}:${port}`;
}

function unconfirmed(target: SshTarget, rows: readonly Pick<GitHostKey, "keyType" | "fingerprint">[]): SourceError {
  const first = [...rows].sort((a, b) => KEY_TYPE_ORDER.indexOf(a.keyType) - KEY_TYPE_ORDER.indexOf(b.keyType))[0];
  return new SourceError(
    "clone_failed",
    `Confirm the host key ${first?.fingerprint ?? ""} of host ${hostLabel(target.host, target.port)} in the portal ` +
      "or the API (GET /api/v1/apps/{appId}/git-host-keys, then POST " +
      "/api/v1/git-host-keys/{id}/confirm) after comparing it with the server's own, then deploy again.",
  );
}

function matchesShipped(key: HostKey, shipped: readonly ShippedHostKey[]): boolean {
  return shipped.some((known) => known.keyType === key.keyType && known.fingerprint === key.fingerprint);
}

export type GitAccessDeps = { db: Db; exec: Executor };

/** The GitAccess of one app's clone. Nothing is read until the clone asks. */
export function gitAccessFor(deps: GitAccessDeps, appId: string, options: { keyscanPath?: string } = {}): GitAccess {
  const { db, exec } = deps;
  return {
    async httpsToken() {
      const row = await db.gitHttpsToken.findUnique({ where: { appId } });
      if (!row) return null;
      return {
        username: row.username ?? DEFAULT_GIT_TOKEN_USERNAME,
        token: decryptBound(row.tokenSealed, gitTokenBinding(appId)),
      };
    },

    async ssh(target) {
      const deployKey = await db.deployKey.findUnique({ where: { appId } });
      if (!deployKey) {
        throw new SourceError(
          "clone_failed",
          "Cloning over SSH needs the app's deploy key: create one (POST /api/v1/apps/{appId}/deploy-key), add its " +
            "public key to the repository's deploy keys, then deploy again.",
        );
      }
      const privateKey = decryptBound(deployKey.privateKeySealed, deployKeyBinding(appId));
      const where = { appId, host: target.host, port: target.port };
      const shipped = shippedHostKeys(target.host, target.port);
      const rows = await db.gitHostKey.findMany({ where });
      // A shipped pin stays trusted only while the shipped list still names it (a forge's rotation drops it).
      const trusted = rows.filter(
        (row) =>
          row.confirmedAt !== null &&
          (row.source !== "shipped" || (shipped ?? []).some((known) => known.fingerprint === row.fingerprint)),
      );
      if (trusted.length > 0) return { privateKey, hostKeys: trusted };
      if (rows.some((row) => row.source === "first_use")) throw unconfirmed(target, rows);

      if (shipped?.every((known) => known.publicKey !== null)) {
        const keys = shipped.flatMap((known) =>
          known.publicKey === null
            ? []
            : [{ keyType: known.keyType, publicKey: known.publicKey, fingerprint: known.fingerprint }],
        );
        await record(db, where, keys, "shipped");
        return { privateKey, hostKeys: keys };
      }
      const scanned = await scanHostKeys(exec, {
        address: target.address ?? target.host,
        port: target.port,
        timeoutMs: KEYSCAN_TIMEOUT_MS,
        keyscanPath: options.keyscanPath,
      });
      if (shipped) {
        const matching = scanned.filter((key) => matchesShipped(key, shipped));
        if (matching.length === 0) {
          throw new SourceError(
            "clone_failed",
            `The SSH server reached as ${target.host} presented host keys that are not ${target.host}'s published ` +
              "keys, so the clone was refused (the connection may be intercepted).",
          );
        }
        await record(db, where, matching, "shipped");
        return { privateKey, hostKeys: matching };
      }
      await record(db, where, scanned, "first_use");
      throw unconfirmed(target, scanned);
    },
  };
}

async function record(
  db: Db,
  where: { appId: string; host: string; port: number },
  keys: readonly HostKey[],
  source: "shipped" | "first_use",
): Promise<void> {
  const confirmedAt = source === "shipped" ? new Date() : null;
  // Two builds of one app may record at once: the unique index keeps one row per key.
  await db.gitHostKey.createMany({
    data: keys.map((key) => ({ ...where, ...key, source, confirmedAt })),
    skipDuplicates: true,
  });
}
