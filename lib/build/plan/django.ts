import type { WebDetection } from "../framework";
import { type SourceTree, scopedSourceTree } from "../source-tree";

/**
 * What the peers do for a detected Django project, proposed visibly: `manage.py migrate` as the release command
 * (Nixpacks and Railpack run it before start) and `manage.py collectstatic` at build time (Heroku's buildpack).
 * collectstatic is proposed only when the settings set STATIC_ROOT: without it Django refuses to collect, and
 * the build would fail for a project that never asked for static files. Both are turned off by the app setting
 * `djangoSetup: false`; a Procfile release: line or a release override wins over the proposal.
 */

export type DjangoSetup = { release: string | null; collectstatic: string | null; reasons: string[] };

const STATIC_ROOT = /^STATIC_ROOT[ \t]*(?::[^=\n]+)?=/m;

/** The settings package's files: <pkg>/settings.py, or every module of a <pkg>/settings/ package. */
async function settingsFiles(tree: SourceTree, pkg: string): Promise<string[]> {
  if (await tree.exists(`${pkg}/settings.py`)) return [`${pkg}/settings.py`];
  const names = await tree.list(`${pkg}/settings`);
  return names.filter((name) => name.endsWith(".py")).map((name) => `${pkg}/settings/${name}`);
}

export async function proposeDjangoSetup(
  tree: SourceTree,
  detection: WebDetection,
  options: { hasRelease: boolean; enabled: boolean },
): Promise<DjangoSetup> {
  if (!options.enabled) {
    return {
      release: null,
      collectstatic: null,
      reasons: ["Django: migrate and collectstatic turned off in app settings"],
    };
  }
  // The package comes from a validated command (lib/build/framework.ts), the directory from a validated name.
  const pkg = /^gunicorn ([A-Za-z_][A-Za-z0-9_]*)\.wsgi:application/.exec(detection.command)?.[1];
  const dir = detection.subdirectory;
  const manage = dir ? `python ${dir}/manage.py` : "python manage.py";
  const reasons: string[] = [];
  let release: string | null = null;
  if (options.hasRelease) {
    reasons.push("Django: the release command given is used; migrate is not added");
  } else {
    release = `${manage} migrate --noinput`;
    reasons.push(
      `Django: release command \`${release}\` proposed (runs before each release goes live); ` +
        "turn it off in the app settings (Django setup) or set your own release command",
    );
  }
  let collectstatic: string | null = null;
  if (pkg !== undefined) {
    const base = dir ? `${dir}/` : "";
    const inTree = dir ? scopedSourceTree(tree, dir) : tree;
    const files = await settingsFiles(inTree, pkg);
    let found: string | null = null;
    for (const file of files) {
      if (STATIC_ROOT.test((await inTree.readFile(file)) ?? "")) {
        found = `${base}${file}`;
        break;
      }
    }
    if (found) {
      collectstatic = `${manage} collectstatic --noinput`;
      reasons.push(
        `Django: \`${collectstatic}\` runs at build time (STATIC_ROOT is set in ${found}); ` +
          "turn it off in the app settings (Django setup)",
      );
    } else {
      reasons.push(`Django: collectstatic not run: no STATIC_ROOT in ${base}${pkg}/settings`);
    }
  }
  return { release, collectstatic, reasons };
}
