import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { CommandError, type ExecResult, type Executor } from "@/lib/infra/exec";
import { destState, restoreDest } from "../source-dest";
import { SourceError } from "../source-errors";
import { inspectTree, quoteRel, startSizeGuard, TRANSFER_SLACK_BYTES, tooLarge } from "./limits";
import { isCommitSha, validateGitRef } from "./url-policy";

// The hardened git commands: their arguments and environment (pure), and runClone, which runs them through the
// Executor with time and size limits and turns git's failures into messages a tenant can act on.

const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
// Per stream. git prints little without a terminal; the tail is what the error message needs.
const GIT_MAX_OUTPUT_BYTES = 256 * 1024;
const GIT_KILL_GRACE_MS = 2_000;
const MAX_MESSAGE_CHARS = 300;

export type CloneArgsInput = {
  /** Already validated; passed to git as is. */
  url: string;
  /** Already validated with validateGitRef; a branch or tag, a full commit SHA, or undefined for the default branch. */
  ref: string | undefined;
  /** Absolute. */
  dest: string;
  /** `http.curloptResolve` entries (HOST:PORT:ADDR[,ADDR]) pinning the addresses that were checked. */
  resolve?: readonly string[];
  /** More `-c name=value` entries, applied last. Production passes none; tests use it to allow file://. */
  extraConfig?: readonly string[];
};

/**
 * The `-c` options of every git command. Why each:
 * - protocol.allow=never + protocol.https.allow=always: nothing but https, also for anything the repository points
 *   at (submodules, alternates, remote helpers such as ext::).
 * - http.followRedirects=false: the default ("initial") follows a redirect of the first request to any host,
 *   bypassing the host check and the address pinning. A renamed repository then fails with a clear message.
 * - core.hooksPath=/dev/null (and --template= on clone/init): no hook runs, and none is copied from a template.
 * - core.symlinks=true: symbolic links inside a repository are legitimate (README -> docs/README.md) and are
 *   checked out as links; runClone then refuses the source if any link leads out of the tree.
 * - submodule.recurse=false (and --no-recurse-submodules): submodules would fetch other, unchecked URLs.
 * - credential.helper= and core.askPass=: no stored credentials, no prompts; only public repositories.
 * - transfer.fsckObjects=true: refuse malformed objects (crafted tree entries such as ".git" or "..").
 * - core.protectNTFS / core.protectHFS: refuse paths that alias ".git" on other file systems, cheap insurance.
 * - core.fsmonitor=false, gc.auto=0, maintenance.auto=false: no helper process and nothing that outlives git.
 * - safe.bareRepository=explicit: never operate on a bare repository embedded in the work tree.
 * - http.sslVerify=true: in case a default changes; the environment has no system or global config anyway.
 */
function gitConfigArgs(resolve: readonly string[] = [], extraConfig: readonly string[] = []): string[] {
  const entries = [
    "protocol.allow=never",
    "protocol.https.allow=always",
    "http.followRedirects=false",
    "http.sslVerify=true",
    "core.hooksPath=/dev/null",
    "core.symlinks=true",
    "core.fsmonitor=false",
    "core.protectNTFS=true",
    "core.protectHFS=true",
    "core.askPass=",
    "credential.helper=",
    "submodule.recurse=false",
    "transfer.fsckObjects=true",
    "safe.bareRepository=explicit",
    "gc.auto=0",
    "maintenance.auto=false",
    "advice.detachedHead=false",
    "init.defaultBranch=main",
    ...resolve.map((entry) => `http.curloptResolve=${entry}`),
    ...extraConfig,
  ];
  return entries.flatMap((entry) => ["-c", entry]);
}

/**
 * The git argument arrays that fetch the source, in order (pure; rev-parse follows separately).
 * A branch or tag (or nothing: the default branch): one shallow, single-branch clone. A commit SHA cannot be named
 * by `clone --branch`: init + shallow fetch of exactly that commit + detached checkout of it.
 */
export function buildCloneArgs(input: CloneArgsInput): string[][] {
  const config = gitConfigArgs(input.resolve, input.extraConfig);
  const { url, ref, dest } = input;
  if (ref !== undefined && isCommitSha(ref)) {
    return [
      [...config, "init", "--quiet", "--template=", "--", dest],
      [...config, "-C", dest, "fetch", "--quiet", "--depth=1", "--no-tags", "--no-recurse-submodules", "--", url, ref],
      [...config, "-C", dest, "checkout", "--quiet", "--detach", ref, "--"],
    ];
  }
  return [
    [
      ...config,
      "clone",
      "--quiet",
      "--template=",
      "--depth=1",
      "--single-branch",
      "--no-tags",
      "--no-recurse-submodules",
      ...(ref === undefined ? [] : [`--branch=${ref}`]),
      "--",
      url,
      dest,
    ],
  ];
}

function revParseArgs(input: CloneArgsInput): string[] {
  return [...gitConfigArgs(input.resolve, input.extraConfig), "-C", input.dest, "rev-parse", "--verify", "HEAD"];
}

/** The checked-out commit's subject and author name, NUL-separated (neither can contain a NUL). */
export function commitInfoArgs(input: Pick<CloneArgsInput, "dest" | "resolve" | "extraConfig">): string[] {
  return [
    ...gitConfigArgs(input.resolve, input.extraConfig),
    "-c",
    "i18n.logOutputEncoding=UTF-8",
    "-C",
    input.dest,
    "log",
    "-1",
    "--no-show-signature",
    "--format=%s%x00%an",
    "HEAD",
    "--",
  ];
}

const MAX_COMMIT_SUBJECT_CHARS = 200;
const MAX_COMMIT_AUTHOR_CHARS = 100;

/** Tenant text for display: control characters removed, length capped; empty becomes null. */
function displayText(text: string | undefined, max: number): string | null {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
  const clean = (text ?? "").replace(/[\u0000-\u001f\u007f-\u009f]/g, "").trim();
  if (clean === "") return null;
  return clean.length > max ? `${clean.slice(0, max - 3)}...` : clean;
}

/** Parses commitInfoArgs' output. */
export function parseCommitInfo(stdout: string): { commitMessage: string | null; commitAuthor: string | null } {
  const [subject, author] = stdout.replace(/\n$/, "").split("\u0000");
  return {
    commitMessage: displayText(subject, MAX_COMMIT_SUBJECT_CHARS),
    commitAuthor: displayText(author, MAX_COMMIT_AUTHOR_CHARS),
  };
}

/**
 * The complete environment of git (not merged with the worker's, which holds the platform's secrets): no system or
 * global configuration, no prompts, an empty throw-away HOME, C locale so messages are predictable.
 * GIT_ASKPASS is set but empty: git then skips core.askPass and SSH_ASKPASS and, with GIT_TERMINAL_PROMPT=0, fails
 * instead of asking. GIT_CEILING_DIRECTORIES stops git from ever finding a repository above dest (the worker's own
 * directory could be one) if dest/.git is missing.
 */
function gitEnv(home: string, dest: string, pathEnv: string | undefined): Record<string, string> {
  return {
    PATH: pathEnv ?? DEFAULT_PATH,
    HOME: home,
    XDG_CONFIG_HOME: home,
    LANG: "C",
    LC_ALL: "C",
    GIT_TERMINAL_PROMPT: "0",
    GIT_ASKPASS: "",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_CEILING_DIRECTORIES: path.dirname(dest),
    // Belt and braces: no git-lfs filter is configured anyway (no system or global config).
    GIT_LFS_SKIP_SMUDGE: "1",
  };
}

function lastGitLine(stderr: string, redactions: readonly (readonly [string, string])[]): string {
  const lines = stderr
    .split(/\r?\n|\r/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  let line = lines.findLast((candidate) => /^(?:fatal|error):/.test(candidate)) ?? lines.at(-1) ?? "";
  line = line.replace(/^(?:fatal|error):\s*/, "");
  for (const [secret, replacement] of redactions) {
    // "/" (dest directly under the root) would mangle every path separator; it reveals nothing anyway.
    if (secret.length > 1) line = line.replaceAll(secret, replacement);
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
  line = line.replace(/[\u0000-\u001f\u007f-\u009f]/g, "");
  return line.length > MAX_MESSAGE_CHARS ? `${line.slice(0, MAX_MESSAGE_CHARS)}...` : line;
}

// stderr is git's whole output: ssh's own reasons come before git's closing "Could not read from remote repository".
function cloneFailure(
  line: string,
  ref: string | undefined,
  step: "fetch" | "rev-parse" | "log",
  stderr: string = line,
): string {
  if (step === "rev-parse") return "The repository has no commits to deploy.";
  if (/could not read (?:username|password)|terminal prompts disabled|authentication failed/i.test(line)) {
    return (
      "The repository does not exist or is private: for a private repository, give the app a read token " +
      "(HTTPS) or a deploy key (SSH) that the repository accepts."
    );
  }
  if (/host key verification failed|remote host identification has changed/i.test(stderr)) {
    return (
      "The SSH server's host key is not the confirmed key of this host, so the clone was refused: the server's key " +
      "changed or the connection was intercepted."
    );
  }
  if (/permission denied \(publickey/i.test(stderr)) {
    return "The SSH server refused the app's deploy key: add its public key to the repository's deploy keys (read).";
  }
  if (ref !== undefined && /remote branch .* not found|couldn't find remote ref|not our ref|unadvertised/i.test(line)) {
    return `The branch, tag or commit ${quoteRel(ref)} was not found in the repository (git: ${line}).`;
  }
  if (/returned error: 30[12378]/.test(line)) {
    return `The server answered with a redirect, which is not followed; use the repository's final URL (git: ${line}).`;
  }
  return line.length > 0 ? `Cloning the repository failed (git: ${line}).` : "Cloning the repository failed.";
}

export type RunCloneOptions = {
  /** Already validated (validateGitUrl(...).href); passed to git as is. */
  url: string;
  /** Branch, tag or full commit SHA; undefined for the default branch. Validated again here. */
  ref?: string;
  /** Absolute path; must not exist or be an empty directory. Restored to that state on any failure. */
  dest: string;
  /** Defaults to "git", looked up in pathEnv. */
  gitPath?: string;
  /** For all git commands together. */
  timeoutMs: number;
  /** Limit for the checked-out tree (sum of file sizes, links not followed). */
  maxBytes: number;
  resolve?: readonly string[];
  extraConfig?: readonly string[];
  /** PATH of the git process. */
  pathEnv?: string;
  /** Added to git's environment (ssh settings, the token header as GIT_CONFIG_* entries). */
  env?: Readonly<Record<string, string>>;
  /** Strings never shown in a message (a token and its header), replaced by <secret>. */
  secrets?: readonly string[];
};

/**
 * Runs the hardened clone (buildCloneArgs) against an already-validated URL, reads the commit SHA, removes `.git`
 * and checks the tree. `.git` is removed because the build context must be the source and nothing else: the
 * history and pack would double the size, the build must not depend on git metadata, and the commit SHA is
 * recorded on the deployment instead.
 */
export type ClonedCommit = { commitSha: string; commitMessage: string | null; commitAuthor: string | null };

export async function runClone(exec: Executor, options: RunCloneOptions): Promise<ClonedCommit> {
  if (!path.isAbsolute(options.dest)) throw new Error("the source destination must be an absolute path");
  const dest = path.normalize(options.dest);
  const ref = options.ref === undefined ? undefined : validateGitRef(options.ref);
  const input: CloneArgsInput = {
    url: options.url,
    ref,
    dest,
    resolve: options.resolve,
    extraConfig: options.extraConfig,
  };
  const state = await destState(dest, "source");
  const deadline = Date.now() + options.timeoutMs;
  const home = await mkdtemp(path.join(tmpdir(), "tsl-git-home-"));
  const env = { ...gitEnv(home, dest, options.pathEnv), ...options.env };
  const gitPath = options.gitPath ?? "git";
  const guard = startSizeGuard(dest, options.maxBytes * 2 + TRANSFER_SLACK_BYTES);
  const redactions: [string, string][] = [
    [dest, "<source>"],
    [home, "<tmp>"],
    [path.dirname(dest), "<tmp>"],
    ...(options.secrets ?? []).map((secret): [string, string] => [secret, "<secret>"]),
  ];
  redactions.sort((a, b) => b[0].length - a[0].length);

  const git = async (args: string[], step: "fetch" | "rev-parse" | "log"): Promise<ExecResult> => {
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw timeoutError(options.timeoutMs);
    try {
      return await exec(gitPath, args, {
        timeoutMs: remaining,
        env,
        maxOutputBytes: GIT_MAX_OUTPUT_BYTES,
        killGraceMs: GIT_KILL_GRACE_MS,
        signal: guard.signal,
      });
    } catch (error) {
      if (guard.tripped()) throw tooLarge(options.maxBytes);
      if (!(error instanceof CommandError)) throw error;
      switch (error.kind) {
        case "timeout":
          throw timeoutError(options.timeoutMs, error);
        case "spawn":
          throw new SourceError("clone_failed", "git is not available on the server.", { cause: error });
        default: {
          const line = lastGitLine(error.stderr, redactions);
          throw new SourceError("clone_failed", cloneFailure(line, ref, step, error.stderr), {
            cause: error,
            detail: line,
          });
        }
      }
    }
  };

  try {
    for (const args of buildCloneArgs(input)) await git(args, "fetch");
    const commitSha = (await git(revParseArgs(input), "rev-parse")).stdout.trim().toLowerCase();
    if (!isCommitSha(commitSha)) throw new SourceError("clone_failed", "git did not report the checked-out commit.");
    if (ref !== undefined && isCommitSha(ref) && commitSha !== ref) {
      throw new SourceError("clone_failed", "The checked-out commit is not the requested one.");
    }
    // Read before .git goes. Display only: a commit git cannot describe still deploys.
    const info = await git(commitInfoArgs(input), "log").then(
      (result) => parseCommitInfo(result.stdout),
      (error: unknown) => {
        if (error instanceof SourceError && error.code === "clone_failed") {
          return { commitMessage: null, commitAuthor: null };
        }
        throw error;
      },
    );
    guard.stop();
    await rm(path.join(dest, ".git"), { recursive: true, force: true });
    await inspectTree(dest, options.maxBytes);
    return { commitSha, ...info };
  } catch (error) {
    guard.stop();
    await restoreDest(dest, state);
    throw error;
  } finally {
    guard.stop();
    await rm(home, { recursive: true, force: true });
  }
}

export function timeoutError(timeoutMs: number, cause?: unknown): SourceError {
  return new SourceError(
    "timeout",
    `Cloning the repository took longer than ${Math.round(timeoutMs / 1000)} seconds and was stopped.`,
    { cause, retryable: true },
  );
}
