// A real .tar.gz made by tar(1) for tests that upload: uploads are checked as readable tarballs when they arrive.
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The files (name → content) as a gzip-compressed tar; random bytes make it as big as they are (no compression). */
export async function tarGz(files: Record<string, string | Uint8Array>): Promise<Buffer> {
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), "test-tarball-"));
  const archive = `${directory}.tar.gz`;
  try {
    for (const [name, content] of Object.entries(files)) await fs.writeFile(path.join(directory, name), content);
    await run("tar", ["-czf", archive, "-C", directory, "--", "."]);
    return await fs.readFile(archive);
  } finally {
    await fs.rm(directory, { recursive: true, force: true });
    await fs.rm(archive, { force: true });
  }
}
