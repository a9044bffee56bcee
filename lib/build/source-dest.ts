// The destination of a fetched source (a git clone or an unpacked upload): it must not exist or be an empty directory,
// and a refused or failed fetch puts it back the way it was found, so nothing of a hostile source is left behind.
import { lstat, readdir, rm } from "node:fs/promises";
import path from "node:path";

export type DestState = "absent" | "empty";

function errorCode(error: unknown): string | undefined {
  return error instanceof Error && "code" in error ? String(error.code) : undefined;
}

/** Anything but an absent or empty directory is a caller bug, not tenant input: a plain Error. */
export async function destState(dest: string, what: string): Promise<DestState> {
  try {
    const stats = await lstat(dest);
    if (!stats.isDirectory()) throw new Error(`the ${what} destination exists and is not a directory`);
    if ((await readdir(dest)).length > 0) throw new Error(`the ${what} destination directory is not empty`);
    return "empty";
  } catch (error) {
    if (errorCode(error) === "ENOENT") return "absent";
    throw error;
  }
}

/** Puts dest back the way it was found. */
export async function restoreDest(dest: string, state: DestState): Promise<void> {
  if (state === "absent") {
    await rm(dest, { recursive: true, force: true });
    return;
  }
  const entries = await readdir(dest).catch(() => []);
  await Promise.all(entries.map((name) => rm(path.join(dest, name), { recursive: true, force: true })));
}
