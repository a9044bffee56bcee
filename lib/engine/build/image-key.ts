// The key of an image: a digest of everything a generated build is made from (the build context's files, their
// modes and contents, in a fixed order; the plan; the rendered Containerfile; the base image's ID; the team and the
// app). Two deployments of one app with the same key would build the same image, so the later one releases the
// earlier one's image instead of rebuilding it (lib/engine/build/index.ts). SHA-256 from node:crypto: a maintained
// implementation, and no new dependency.
import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";

// Bumped when what goes into a key changes, so no old key can match a new one.
const KEY_VERSION = "tussilago-image-key-v1";

/** Feeds one field, length-prefixed, so no two different inputs hash the same byte stream. */
function field(hash: Hash, value: string | Buffer): void {
  const bytes = typeof value === "string" ? Buffer.from(value, "utf8") : value;
  hash.update(`${bytes.length}:`);
  hash.update(bytes);
}

async function fileDigest(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/**
 * Every entry under `dir` (links not followed), sorted by relative path: type, permission bits, and the content's
 * digest (a file) or target (a link). Timestamps and owners are left out: the build copies files as app:app, and a
 * fresh checkout or upload of the same tree has new timestamps.
 */
export async function sourceTreeDigest(dir: string): Promise<string> {
  const hash = createHash("sha256");
  const walk = async (relative: string): Promise<void> => {
    const names = (await fs.readdir(path.join(dir, relative))).sort();
    for (const name of names) {
      const rel = relative === "" ? name : `${relative}/${name}`;
      const full = path.join(dir, rel);
      const stat = await fs.lstat(full);
      const mode = (stat.mode & 0o7777).toString(8);
      if (stat.isSymbolicLink()) {
        field(hash, `link\0${rel}\0${mode}\0${await fs.readlink(full)}`);
      } else if (stat.isDirectory()) {
        field(hash, `dir\0${rel}\0${mode}`);
        await walk(rel);
      } else if (stat.isFile()) {
        field(hash, `file\0${rel}\0${mode}\0${await fileDigest(full)}`);
      } else {
        // Source checks refuse devices and sockets; anything else still changes the key rather than being skipped.
        field(hash, `other\0${rel}\0${mode}\0${stat.mode}`);
      }
    }
  };
  await walk("");
  return hash.digest("hex");
}

export type ImageKeyInput = {
  teamId: string;
  appId: string;
  contextDir: string;
  /** The plan as stored on the deployment (JSON). */
  plan: unknown;
  containerfile: string;
  baseImageId: string;
};

export async function imageKeyOf(input: ImageKeyInput): Promise<string> {
  const hash = createHash("sha256");
  field(hash, KEY_VERSION);
  field(hash, input.teamId);
  field(hash, input.appId);
  field(hash, await sourceTreeDigest(input.contextDir));
  field(hash, JSON.stringify(input.plan));
  field(hash, input.containerfile);
  field(hash, input.baseImageId);
  return hash.digest("hex");
}

/** The part of a key shown in the build log. */
export function shortKey(key: string): string {
  return key.slice(0, 12);
}
