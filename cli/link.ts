// A linked directory: .tussilago.json in the project names the app (its ID, and its name for people), so commands
// run there need no --app. apps:create and `link` write it; commands look for it from the current directory upwards.
import fs from "node:fs/promises";
import path from "node:path";
import { z } from "zod";

export const LINK_FILE = ".tussilago.json";

const linkFile = z.object({ appId: z.uuid(), name: z.string().optional() });
export type Link = z.infer<typeof linkFile> & { file: string };

export async function findLink(startDir: string): Promise<Link | null> {
  let dir = path.resolve(startDir);
  for (;;) {
    const file = path.join(dir, LINK_FILE);
    const text = await fs.readFile(file, "utf8").catch(() => null);
    if (text !== null) {
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      const parsed = linkFile.safeParse(json);
      if (parsed.success) return { ...parsed.data, file };
    }
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

export async function writeLink(dir: string, link: { appId: string; name: string }): Promise<string> {
  const file = path.join(dir, LINK_FILE);
  await fs.writeFile(file, `${JSON.stringify({ appId: link.appId, name: link.name }, null, 2)}\n`);
  return file;
}
