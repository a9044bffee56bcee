import { randomBytes } from "node:crypto";
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CommandError, type ExecOptions, type ExecResult, type Executor, execFileExecutor } from "@/lib/infra/exec";
import { SourceError } from "./source-errors";
import {
  buildCloneArgs,
  fetchGitSource,
  type HostLookup,
  isPublicAddress,
  resolveAndCheckHost,
  runClone,
  validateGitRef,
  validateGitUrl,
} from "./source-git";

const SHA = "3f786850e387550fdab836ed7e6dc881de23001b";
const GITHUB_V4 = "140.82.121.3";
const GITHUB_V6 = "2606:50c0:8000::153";

// The hardening every git command must carry; spelled out so that removing a flag fails a test.
const HARDENING = [
  "-c",
  "protocol.allow=never",
  "-c",
  "protocol.https.allow=always",
  "-c",
  "http.followRedirects=false",
  "-c",
  "http.sslVerify=true",
  "-c",
  "core.hooksPath=/dev/null",
  "-c",
  "core.symlinks=true",
  "-c",
  "core.fsmonitor=false",
  "-c",
  "core.protectNTFS=true",
  "-c",
  "core.protectHFS=true",
  "-c",
  "core.askPass=",
  "-c",
  "credential.helper=",
  "-c",
  "submodule.recurse=false",
  "-c",
  "transfer.fsckObjects=true",
  "-c",
  "safe.bareRepository=explicit",
  "-c",
  "gc.auto=0",
  "-c",
  "maintenance.auto=false",
  "-c",
  "advice.detachedHead=false",
  "-c",
  "init.defaultBranch=main",
];

type Call = { file: string; args: readonly string[]; options: ExecOptions };

function ok(stdout = ""): ExecResult {
  return { stdout, stderr: "", exitCode: 0, durationMs: 1 };
}

function argAfter(args: readonly string[], flag: string): string {
  const value = args[args.indexOf(flag) + 1];
  if (value === undefined) throw new Error(`no ${flag} in ${args.join(" ")}`);
  return value;
}

/** Records every call; by default behaves like a successful git on disk (enough for runClone's post-processing). */
function recordingExec(override?: (call: Call) => Promise<ExecResult> | undefined): {
  exec: Executor;
  calls: Call[];
} {
  const calls: Call[] = [];
  const exec: Executor = async (file, args, options) => {
    const call = { file, args: [...args], options };
    calls.push(call);
    const custom = override?.(call);
    if (custom !== undefined) return custom;
    if (args.includes("clone")) {
      const dest = args.at(-1) ?? "";
      await mkdir(path.join(dest, ".git"), { recursive: true });
      await writeFile(path.join(dest, "app.py"), "print('hi')\n");
      return ok();
    }
    if (args.includes("init")) {
      await mkdir(path.join(args.at(-1) ?? "", ".git"), { recursive: true });
      return ok();
    }
    if (args.includes("checkout")) {
      await writeFile(path.join(argAfter(args, "-C"), "app.py"), "print('hi')\n");
      return ok();
    }
    if (args.includes("rev-parse")) return ok(`${SHA}\n`);
    if (args.includes("log")) return ok("Fix the thing\u0000Ada\n");
    return ok();
  };
  return { exec, calls };
}

function recordingLookup(addresses: string[]): { lookup: HostLookup; names: string[] } {
  const names: string[] = [];
  const lookup: HostLookup = async (hostname) => {
    names.push(hostname);
    return addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
  return { lookup, names };
}

async function sourceError(run: () => unknown): Promise<SourceError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof SourceError) return error;
    throw error;
  }
  throw new Error("expected a SourceError");
}

async function exists(file: string): Promise<boolean> {
  return lstat(file).then(
    () => true,
    () => false,
  );
}

let scratch: string;
let dest: string;

beforeEach(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), "tsl-source-git-"));
  dest = path.join(scratch, "src");
});

afterEach(async () => {
  await rm(scratch, { recursive: true, force: true });
});

const baseOptions = () => ({
  dest,
  timeoutMs: 60_000,
  maxBytes: 10 * 1024 * 1024,
  allowPrivateHosts: false,
});

describe("validateGitUrl", () => {
  const refused: Array<[string, "invalid_url" | "forbidden_host"]> = [
    ["", "invalid_url"],
    ["file:///etc/passwd", "invalid_url"],
    ["FILE:///etc/passwd", "invalid_url"],
    ["file://localhost/srv/repo.git", "invalid_url"],
    ["ext::sh -c touch% /tmp/pwned", "invalid_url"],
    ["ext::sh", "invalid_url"],
    ["fd::17", "invalid_url"],
    ["--upload-pack=touch /tmp/pwned", "invalid_url"],
    ["--upload-pack=id", "invalid_url"],
    ["-oProxyCommand=id", "invalid_url"],
    ["git+ssh://github.com/octo/repo.git", "invalid_url"],
    ["git://github.com/octo/repo.git", "invalid_url"],
    // SSH forms that would reach ssh or git as an option, or a shell as text (issue #14).
    ["ssh://-oProxyCommand=id/octo/repo.git", "invalid_url"],
    ["git@-oProxyCommand=id:octo/repo.git", "invalid_url"],
    ["-oProxyCommand=id@github.com:octo/repo.git", "invalid_url"],
    ["ssh://-oProxyCommand=id@github.com/octo/repo.git", "invalid_url"],
    ["ssh://git@github.com/-octo/repo.git", "invalid_url"],
    ["git@github.com:--upload-pack=id", "invalid_url"],
    ["ssh://git@github.com/octo/repo.git;id", "invalid_url"],
    ["ssh://git@github.com/octo/$(id).git", "invalid_url"],
    ["ssh://git@github.com/octo/`id`.git", "invalid_url"],
    ["ssh://git@github.com:0/octo/repo.git", "invalid_url"],
    ["ssh://git@github.com:x/octo/repo.git", "invalid_url"],
    ["ssh://git@github.com", "invalid_url"],
    ["ssh://git:pw@github.com/octo/repo.git", "invalid_url"],
    ["ssh://git@10.0.0.5/octo/repo.git", "forbidden_host"],
    ["git@127.0.0.1:octo/repo.git", "forbidden_host"],
    ["git@[::1]:octo/repo.git", "forbidden_host"],
    ["git@localhost:octo/repo.git", "forbidden_host"],
    ["github.com/octo/repo.git", "invalid_url"],
    ["/srv/git/repo.git", "invalid_url"],
    ["../repo.git", "invalid_url"],
    ["http://github.com/octo/repo.git", "invalid_url"],
    ["ftp://github.com/octo/repo.git", "invalid_url"],
    ["https:github.com/octo/repo.git", "invalid_url"],
    ["https:/github.com/octo/repo.git", "invalid_url"],
    ["https://user:pass@github.com/octo/repo.git", "invalid_url"],
    ["https://ghp_secret@github.com/octo/repo.git", "invalid_url"],
    ["https://:pass@github.com/octo/repo.git", "invalid_url"],
    ["https://a@b@github.com/octo/repo.git", "invalid_url"],
    [" https://github.com/octo/repo.git", "invalid_url"],
    ["https://github.com/octo/repo.git\n", "invalid_url"],
    ["https://github.com/octo/re po.git", "invalid_url"],
    ["https://github.com/octo/\trepo.git", "invalid_url"],
    ["https://github.com/octo/\u0000repo.git", "invalid_url"],
    ["https://github.com/octo/\u001brepo.git", "invalid_url"],
    ["https://github.com/octo/\u202erepo.git", "invalid_url"],
    ["https://github.com/octo/\u200brepo.git", "invalid_url"],
    ["https://github.com/octo/repo.git?private_token=x", "invalid_url"],
    ["https://github.com/octo/repo.git?", "invalid_url"],
    ["https://github.com/octo/repo.git#main", "invalid_url"],
    ["https://github.com\\@evil.example/octo/repo.git", "invalid_url"],
    ["https://github.com", "invalid_url"],
    ["https://github.com/", "invalid_url"],
    [`https://github.com/${"a".repeat(2048)}`, "invalid_url"],
    ["https://exa_mple.com/octo/repo.git", "invalid_url"],
    ["https://-github.com/octo/repo.git", "invalid_url"],
    ["https://github.com./octo/repo.git", "invalid_url"],
    ["https://[::1/octo/repo.git", "invalid_url"],
    ["https://1.2.3.4.5/octo/repo.git", "invalid_url"],
    ["https://localhost/octo/repo.git", "forbidden_host"],
    ["https://LOCALHOST/octo/repo.git", "forbidden_host"],
    ["https://localhost:8443/octo/repo.git", "forbidden_host"],
    ["https://git.localhost/octo/repo.git", "forbidden_host"],
    ["https://%6c%6fcalhost/octo/repo.git", "forbidden_host"],
    ["https://127.0.0.1/octo/repo.git", "forbidden_host"],
    ["https://127.0.0.1:3000/octo/repo.git", "forbidden_host"],
    ["https://127.8.9.10/octo/repo.git", "forbidden_host"],
    ["https://2130706433/octo/repo.git", "forbidden_host"],
    ["https://0x7f.1/octo/repo.git", "forbidden_host"],
    ["https://0x7f000001/octo/repo.git", "forbidden_host"],
    ["https://0177.0.0.1/octo/repo.git", "forbidden_host"],
    ["https://127.1/octo/repo.git", "forbidden_host"],
    ["https://127\u30020\u30020\u30021/octo/repo.git", "forbidden_host"],
    ["https://0/octo/repo.git", "forbidden_host"],
    ["https://0.0.0.0/octo/repo.git", "forbidden_host"],
    ["https://10.1.2.3/octo/repo.git", "forbidden_host"],
    ["https://172.16.5.4/octo/repo.git", "forbidden_host"],
    ["https://172.31.255.255/octo/repo.git", "forbidden_host"],
    ["https://192.168.0.1/octo/repo.git", "forbidden_host"],
    ["https://100.64.0.1/octo/repo.git", "forbidden_host"],
    ["https://169.254.169.254/latest/meta-data", "forbidden_host"],
    ["https://0xa9fea9fe/latest/meta-data", "forbidden_host"],
    ["https://224.0.0.1/octo/repo.git", "forbidden_host"],
    ["https://255.255.255.255/octo/repo.git", "forbidden_host"],
    ["https://198.18.0.1/octo/repo.git", "forbidden_host"],
    ["https://[::1]/octo/repo.git", "forbidden_host"],
    ["https://[::]/octo/repo.git", "forbidden_host"],
    ["https://[0:0:0:0:0:0:0:1]/octo/repo.git", "forbidden_host"],
    ["https://[::ffff:127.0.0.1]/octo/repo.git", "forbidden_host"],
    ["https://[::ffff:7f00:1]/octo/repo.git", "forbidden_host"],
    ["https://[::ffff:169.254.169.254]/latest", "forbidden_host"],
    ["https://[::ffff:10.0.0.1]/octo/repo.git", "forbidden_host"],
    ["https://[::127.0.0.1]/octo/repo.git", "forbidden_host"],
    ["https://[fe80::1]/octo/repo.git", "forbidden_host"],
    ["https://[febf::1]/octo/repo.git", "forbidden_host"],
    ["https://[fec0::1]/octo/repo.git", "forbidden_host"],
    ["https://[fd00::1]/octo/repo.git", "forbidden_host"],
    ["https://[fc00::1]/octo/repo.git", "forbidden_host"],
    ["https://[ff02::1]/octo/repo.git", "forbidden_host"],
    ["https://[64:ff9b::7f00:1]/octo/repo.git", "forbidden_host"],
    ["https://[64:ff9b:1::1]/octo/repo.git", "forbidden_host"],
    ["https://[2002:7f00:1::1]/octo/repo.git", "forbidden_host"],
    ["https://[2001:db8::1]/octo/repo.git", "forbidden_host"],
    ["https://[2001::1]/octo/repo.git", "forbidden_host"],
    ["https://[100::1]/octo/repo.git", "forbidden_host"],
    ["https://metadata.google.internal/computeMetadata/v1/", "forbidden_host"],
    ["https://gitea/octo/repo.git", "forbidden_host"],
    ["https://printer.local/octo/repo.git", "forbidden_host"],
    ["https://router.home.arpa/octo/repo.git", "forbidden_host"],
    ["https://1.0.0.127.in-addr.arpa/octo/repo.git", "forbidden_host"],
    ["https://git.corp.lan/octo/repo.git", "forbidden_host"],
  ];

  it.each(refused)("refuses %j (%s)", async (url, code) => {
    const error = await sourceError(() => validateGitUrl(url, { allowPrivateHosts: false }));
    expect(error.code).toBe(code);
    expect(error.userMessage.length).toBeGreaterThan(10);
  });

  it.each(refused)("runs no command and no DNS lookup for %j", async (url, code) => {
    const { exec, calls } = recordingExec();
    const { lookup, names } = recordingLookup([GITHUB_V4]);
    const error = await sourceError(() => fetchGitSource(exec, { ...baseOptions(), url, ref: "main", lookup }));
    expect(error.code).toBe(code);
    expect(calls).toEqual([]);
    expect(names).toEqual([]);
    expect(await exists(dest)).toBe(false);
  });

  it("explains why credentials are refused", async () => {
    const error = await sourceError(() =>
      validateGitUrl("https://user:hunter2@github.com/octo/repo.git", { allowPrivateHosts: false }),
    );
    expect(error.userMessage).toMatch(/stored/);
    expect(error.userMessage).toMatch(/logs/);
    expect(error.userMessage).not.toContain("hunter2");
  });

  it.each([
    ["https://github.com/octo/repo.git", "https://github.com/octo/repo.git"],
    ["https://gitlab.com/group/sub/repo", "https://gitlab.com/group/sub/repo"],
    ["HTTPS://GitHub.COM/Octo/Repo.git", "https://github.com/Octo/Repo.git"],
    ["https://git.example.org:8443/r.git", "https://git.example.org:8443/r.git"],
    ["https://git.example.org:443/r.git", "https://git.example.org/r.git"],
    ["https://8.8.8.8/r.git", "https://8.8.8.8/r.git"],
    ["https://[2606:4700:4700::1111]/r.git", "https://[2606:4700:4700::1111]/r.git"],
    ["https://[::ffff:8.8.8.8]/r.git", "https://[::ffff:808:808]/r.git"],
    ["https://bücher.example/r.git", "https://xn--bcher-kva.example/r.git"],
    ["ssh://git@github.com/octo/repo.git", "ssh://git@github.com/octo/repo.git"],
    ["ssh://git@GitHub.com:22/octo/repo.git", "ssh://git@github.com/octo/repo.git"],
    ["ssh://github.com:2222/octo/repo.git", "ssh://git@github.com:2222/octo/repo.git"],
    ["git@github.com:octo/repo.git", "ssh://git@github.com/octo/repo.git"],
    ["github.com:octo/repo.git", "ssh://git@github.com/octo/repo.git"],
    ["deploy@git.example.org:/srv/git/app.git", "ssh://deploy@git.example.org/srv/git/app.git"],
  ])("accepts %j as %j", (url, href) => {
    expect(validateGitUrl(url, { allowPrivateHosts: false }).href).toBe(href);
  });

  it.each([
    "https://localhost/r.git",
    "https://10.0.0.5/r.git",
    "https://gitea/r.git",
    "https://[::1]/r.git",
    "https://git.internal/r.git",
  ])("accepts the private host %j when private hosts are allowed", (url) => {
    expect(validateGitUrl(url, { allowPrivateHosts: true }).protocol).toBe("https:");
  });

  it.each([
    "http://10.0.0.5/r.git",
    "file:///srv/r.git",
    "ext::sh -c id",
    "-u",
    "https://u:p@10.0.0.5/r.git",
    "git@-oProxyCommand=id:r.git",
    "ssh://git@10.0.0.5/-r.git",
  ])("still refuses %j when private hosts are allowed", async (url) => {
    expect((await sourceError(() => validateGitUrl(url, { allowPrivateHosts: true }))).code).toBe("invalid_url");
  });
});

describe("isPublicAddress", () => {
  it.each([
    ["8.8.8.8", true],
    ["140.82.121.3", true],
    ["172.32.0.1", true],
    ["100.128.0.1", true],
    ["2606:4700:4700::1111", true],
    ["::ffff:8.8.8.8", true],
    ["64:ff9b::808:808", true],
    ["2002:808:808::1", true],
    ["127.0.0.1", false],
    ["10.255.255.255", false],
    ["172.16.0.0", false],
    ["100.127.255.255", false],
    ["169.254.0.1", false],
    ["0.1.2.3", false],
    ["240.0.0.1", false],
    ["::1", false],
    ["::", false],
    ["fe80::1%eth0", false],
    ["fd12:3456::1", false],
    ["::ffff:192.168.1.1", false],
    ["::ffff:0:127.0.0.1", false],
    ["3fff::1", false],
    ["not an address", false],
    ["", false],
  ])("%j is public: %s", (address, expected) => {
    expect(isPublicAddress(address)).toBe(expected);
  });
});

describe("validateGitRef", () => {
  it.each([
    "",
    "-b",
    "-",
    "--upload-pack=evil",
    "--orphan",
    "a..b",
    "..",
    "main@{1}",
    "@{-1}",
    "@",
    "my branch",
    "tab\there",
    "new\nline",
    "nul\u0000",
    "del\u007f",
    "a~1",
    "a^",
    "a^{}",
    "a:b",
    "a?",
    "a*",
    "a[1]",
    "a\\b",
    "a.lock",
    "feature/x.lock",
    "a/",
    "/a",
    "a//b",
    ".hidden",
    "feature/.x",
    "a.",
    "x".repeat(256),
    "br\u00e5nch",
    "main\u202e",
  ])("refuses %j", async (ref) => {
    expect((await sourceError(() => validateGitRef(ref))).code).toBe("invalid_ref");
  });

  it.each(["main", "feature/login-2", "v1.2.3", "release_2024.01", "abc123", "x".repeat(255)])("accepts %j", (ref) => {
    expect(validateGitRef(ref)).toBe(ref);
  });

  it("lower-cases a commit SHA", () => {
    expect(validateGitRef(SHA.toUpperCase())).toBe(SHA);
  });

  it.each(["-b", "--upload-pack=touch /tmp/x", "a..b", "main@{1}"])(
    "refuses %j in fetchGitSource before any lookup or command",
    async (ref) => {
      const { exec, calls } = recordingExec();
      const { lookup, names } = recordingLookup([GITHUB_V4]);
      const error = await sourceError(() =>
        fetchGitSource(exec, { ...baseOptions(), url: "https://github.com/octo/repo.git", ref, lookup }),
      );
      expect(error.code).toBe("invalid_ref");
      expect(calls).toEqual([]);
      expect(names).toEqual([]);
    },
  );
});

describe("resolveAndCheckHost", () => {
  it("answers the addresses of a public host", async () => {
    const { lookup, names } = recordingLookup([GITHUB_V4, GITHUB_V6, GITHUB_V4]);
    expect(await resolveAndCheckHost("github.com", { allowPrivateHosts: false, lookup })).toEqual([
      GITHUB_V4,
      GITHUB_V6,
    ]);
    expect(names).toEqual(["github.com"]);
  });

  it.each([
    [["10.0.0.7"]],
    [[GITHUB_V4, "10.0.0.7"]],
    [[GITHUB_V4, "::1"]],
    [["::ffff:127.0.0.1"]],
    [["169.254.169.254"]],
    [["fe80::1%eth0"]],
  ])("refuses a name resolving to %j (DNS rebinding, split answers)", async (addresses) => {
    const { lookup } = recordingLookup(addresses);
    const error = await sourceError(() => resolveAndCheckHost("evil.example", { allowPrivateHosts: false, lookup }));
    expect(error.code).toBe("forbidden_host");
    // The tenant does not learn the internal address; the log detail does.
    for (const address of addresses) {
      if (address !== GITHUB_V4) expect(error.userMessage).not.toContain(address);
    }
    expect(error.detail).toContain(addresses.at(-1));
  });

  it("checks IP literals without DNS", async () => {
    const { lookup, names } = recordingLookup([GITHUB_V4]);
    expect(await resolveAndCheckHost("8.8.8.8", { allowPrivateHosts: false, lookup })).toEqual(["8.8.8.8"]);
    expect(await resolveAndCheckHost("[2606:4700::1]", { allowPrivateHosts: false, lookup })).toEqual(["2606:4700::1"]);
    expect((await sourceError(() => resolveAndCheckHost("[::1]", { allowPrivateHosts: false, lookup }))).code).toBe(
      "forbidden_host",
    );
    expect(names).toEqual([]);
  });

  it("skips the lookup when private hosts are allowed", async () => {
    const { lookup, names } = recordingLookup(["10.0.0.7"]);
    expect(await resolveAndCheckHost("git.internal", { allowPrivateHosts: true, lookup })).toEqual([]);
    expect(names).toEqual([]);
  });

  it("reports unknown hosts as a clone failure", async () => {
    const lookup: HostLookup = async () => {
      throw Object.assign(new Error("getaddrinfo ENOTFOUND nope.example"), { code: "ENOTFOUND" });
    };
    const error = await sourceError(() => resolveAndCheckHost("nope.example", { allowPrivateHosts: false, lookup }));
    expect(error.code).toBe("clone_failed");
    expect(error.retryable).toBe(false);
    expect(error.userMessage).toContain("nope.example");
  });

  it("gives up on a lookup that hangs", async () => {
    const lookup: HostLookup = () => new Promise(() => {});
    const error = await sourceError(() =>
      resolveAndCheckHost("slow.example", { allowPrivateHosts: false, lookup, timeoutMs: 20 }),
    );
    expect(error.code).toBe("clone_failed");
    expect(error.retryable).toBe(true);
  });

  it("refuses a name without addresses", async () => {
    const { lookup } = recordingLookup([]);
    expect(
      (await sourceError(() => resolveAndCheckHost("empty.example", { allowPrivateHosts: false, lookup }))).code,
    ).toBe("clone_failed");
  });
});

describe("buildCloneArgs", () => {
  it("clones a branch shallowly, hardened, with options before `--`", () => {
    expect(
      buildCloneArgs({ url: "https://github.com/octo/repo.git", ref: "main", dest: "/work/src", resolve: [] }),
    ).toEqual([
      [
        ...HARDENING,
        "clone",
        "--quiet",
        "--template=",
        "--depth=1",
        "--single-branch",
        "--no-tags",
        "--no-recurse-submodules",
        "--branch=main",
        "--",
        "https://github.com/octo/repo.git",
        "/work/src",
      ],
    ]);
  });

  it("clones the default branch without --branch", () => {
    const [clone] = buildCloneArgs({ url: "https://github.com/octo/repo.git", ref: undefined, dest: "/work/src" });
    expect(clone?.some((arg) => arg.startsWith("--branch"))).toBe(false);
  });

  it("fetches exactly one commit for a SHA", () => {
    expect(
      buildCloneArgs({
        url: "https://github.com/octo/repo.git",
        ref: SHA,
        dest: "/work/src",
        resolve: [`github.com:443:${GITHUB_V4}`],
      }),
    ).toEqual([
      [
        ...HARDENING,
        "-c",
        `http.curloptResolve=github.com:443:${GITHUB_V4}`,
        "init",
        "--quiet",
        "--template=",
        "--",
        "/work/src",
      ],
      [
        ...HARDENING,
        "-c",
        `http.curloptResolve=github.com:443:${GITHUB_V4}`,
        "-C",
        "/work/src",
        "fetch",
        "--quiet",
        "--depth=1",
        "--no-tags",
        "--no-recurse-submodules",
        "--",
        "https://github.com/octo/repo.git",
        SHA,
      ],
      [
        ...HARDENING,
        "-c",
        `http.curloptResolve=github.com:443:${GITHUB_V4}`,
        "-C",
        "/work/src",
        "checkout",
        "--quiet",
        "--detach",
        SHA,
        "--",
      ],
    ]);
  });
});

describe("fetchGitSource with a recording executor", () => {
  it("pins the checked addresses, runs clone then rev-parse, and drops .git", async () => {
    const { exec, calls } = recordingExec();
    const { lookup } = recordingLookup([GITHUB_V4, GITHUB_V6]);
    const result = await fetchGitSource(exec, {
      ...baseOptions(),
      url: "https://github.com/octo/repo.git",
      ref: "main",
      gitPath: "/usr/bin/git",
      lookup,
    });
    expect(result).toEqual({ commitSha: SHA, commitMessage: "Fix the thing", commitAuthor: "Ada" });
    const pin = ["-c", `http.curloptResolve=github.com:443:${GITHUB_V4},[${GITHUB_V6}]`];
    expect(calls.map((call) => call.file)).toEqual(["/usr/bin/git", "/usr/bin/git", "/usr/bin/git"]);
    expect(calls.map((call) => call.args)).toEqual([
      [
        ...HARDENING,
        ...pin,
        "clone",
        "--quiet",
        "--template=",
        "--depth=1",
        "--single-branch",
        "--no-tags",
        "--no-recurse-submodules",
        "--branch=main",
        "--",
        "https://github.com/octo/repo.git",
        dest,
      ],
      [...HARDENING, ...pin, "-C", dest, "rev-parse", "--verify", "HEAD"],
      [
        ...HARDENING,
        ...pin,
        "-c",
        "i18n.logOutputEncoding=UTF-8",
        "-C",
        dest,
        "log",
        "-1",
        "--no-show-signature",
        "--format=%s%x00%an",
        "HEAD",
        "--",
      ],
    ]);
    expect(await readdir(dest)).toEqual(["app.py"]);
  });

  it("gives git a minimal environment and bounded output", async () => {
    process.env.TSL_TEST_SECRET = "must-not-leak";
    try {
      const { exec, calls } = recordingExec();
      const { lookup } = recordingLookup([GITHUB_V4]);
      await fetchGitSource(exec, { ...baseOptions(), url: "https://github.com/octo/repo.git", ref: "main", lookup });
      const options = calls[0]?.options;
      const home = options?.env?.HOME ?? "";
      expect(home).toMatch(/tsl-git-home-/);
      expect(options?.env).toEqual({
        PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        HOME: home,
        XDG_CONFIG_HOME: home,
        LANG: "C",
        LC_ALL: "C",
        GIT_TERMINAL_PROMPT: "0",
        GIT_ASKPASS: "",
        GIT_CONFIG_NOSYSTEM: "1",
        GIT_CONFIG_GLOBAL: "/dev/null",
        GIT_CEILING_DIRECTORIES: scratch,
        GIT_LFS_SKIP_SMUDGE: "1",
      });
      expect(options?.timeoutMs).toBeGreaterThan(0);
      expect(options?.timeoutMs).toBeLessThanOrEqual(60_000);
      expect(options?.maxOutputBytes).toBeGreaterThan(0);
      expect(options?.signal).toBeInstanceOf(AbortSignal);
      // The throw-away HOME is gone afterwards.
      expect(await exists(home)).toBe(false);
    } finally {
      delete process.env.TSL_TEST_SECRET;
    }
  });

  it("uses the URL's port in the pin and does not pin IP literals", async () => {
    const first = recordingExec();
    const { lookup } = recordingLookup([GITHUB_V4]);
    await fetchGitSource(first.exec, { ...baseOptions(), url: "https://git.example.org:8443/r.git", lookup });
    expect(first.calls[0]?.args).toContain(`http.curloptResolve=git.example.org:8443:${GITHUB_V4}`);
    expect(first.calls[0]?.args.some((arg) => arg.startsWith("--branch"))).toBe(false);

    await rm(dest, { recursive: true, force: true });
    const second = recordingExec();
    await fetchGitSource(second.exec, { ...baseOptions(), url: "https://8.8.8.8/r.git", ref: "main", lookup });
    expect(second.calls[0]?.args.some((arg) => arg.startsWith("http.curloptResolve"))).toBe(false);
  });

  it("does not resolve or pin when private hosts are allowed", async () => {
    const { exec, calls } = recordingExec();
    const { lookup, names } = recordingLookup(["10.0.0.7"]);
    await fetchGitSource(exec, {
      ...baseOptions(),
      url: "https://git.internal/r.git",
      ref: "main",
      allowPrivateHosts: true,
      lookup,
    });
    expect(names).toEqual([]);
    expect(calls[0]?.args.some((arg) => arg.startsWith("http.curloptResolve"))).toBe(false);
  });

  it("fetches a commit SHA with init, fetch, checkout and verifies it", async () => {
    const { exec, calls } = recordingExec();
    const { lookup } = recordingLookup([GITHUB_V4]);
    const result = await fetchGitSource(exec, {
      ...baseOptions(),
      url: "https://github.com/octo/repo.git",
      ref: SHA.toUpperCase(),
      lookup,
    });
    expect(result.commitSha).toBe(SHA);
    const pin = ["-c", `http.curloptResolve=github.com:443:${GITHUB_V4}`];
    expect(calls.map((call) => call.args)).toEqual([
      [...HARDENING, ...pin, "init", "--quiet", "--template=", "--", dest],
      [
        ...HARDENING,
        ...pin,
        "-C",
        dest,
        "fetch",
        "--quiet",
        "--depth=1",
        "--no-tags",
        "--no-recurse-submodules",
        "--",
        "https://github.com/octo/repo.git",
        SHA,
      ],
      [...HARDENING, ...pin, "-C", dest, "checkout", "--quiet", "--detach", SHA, "--"],
      [...HARDENING, ...pin, "-C", dest, "rev-parse", "--verify", "HEAD"],
      [
        ...HARDENING,
        ...pin,
        "-c",
        "i18n.logOutputEncoding=UTF-8",
        "-C",
        dest,
        "log",
        "-1",
        "--no-show-signature",
        "--format=%s%x00%an",
        "HEAD",
        "--",
      ],
    ]);
    expect(await readdir(dest)).toEqual(["app.py"]);
  });

  it("refuses a checkout that is not the requested commit", async () => {
    const other = "0".repeat(40);
    const { exec } = recordingExec((call) =>
      call.args.includes("rev-parse") ? Promise.resolve(ok(other)) : undefined,
    );
    const { lookup } = recordingLookup([GITHUB_V4]);
    const error = await sourceError(() =>
      fetchGitSource(exec, { ...baseOptions(), url: "https://github.com/octo/repo.git", ref: SHA, lookup }),
    );
    expect(error.code).toBe("clone_failed");
    expect(await exists(dest)).toBe(false);
  });

  it("refuses a host resolving to a private address before running git", async () => {
    const { exec, calls } = recordingExec();
    const { lookup } = recordingLookup([GITHUB_V4, "10.0.0.7"]);
    const error = await sourceError(() =>
      fetchGitSource(exec, { ...baseOptions(), url: "https://rebind.example/octo/repo.git", ref: "main", lookup }),
    );
    expect(error.code).toBe("forbidden_host");
    expect(error.userMessage).not.toContain("10.0.0.7");
    expect(calls).toEqual([]);
  });

  it("reports git's last error line without host paths and cleans up", async () => {
    const { exec } = recordingExec((call) => {
      if (!call.args.includes("clone")) return undefined;
      return (async () => {
        await mkdir(path.join(dest, ".git"), { recursive: true });
        throw new CommandError({
          kind: "exit",
          file: call.file,
          args: call.args,
          exitCode: 128,
          stderr: `Cloning into '${dest}'...\nwarning: something\nfatal: could not create work tree dir '${dest}/x': Permission denied\n`,
        });
      })();
    });
    const { lookup } = recordingLookup([GITHUB_V4]);
    const error = await sourceError(() =>
      fetchGitSource(exec, { ...baseOptions(), url: "https://github.com/octo/repo.git", ref: "main", lookup }),
    );
    expect(error.code).toBe("clone_failed");
    expect(error.userMessage).toContain("could not create work tree dir '<source>/x': Permission denied");
    expect(error.userMessage).not.toContain(scratch);
    expect(error.userMessage).not.toContain("fatal:");
    expect(await exists(dest)).toBe(false);
  });

  it("explains a private or missing repository", async () => {
    const { exec } = recordingExec((call) =>
      call.args.includes("clone")
        ? Promise.reject(
            new CommandError({
              kind: "exit",
              file: call.file,
              args: call.args,
              exitCode: 128,
              stderr: "fatal: could not read Username for 'https://github.com': terminal prompts disabled\n",
            }),
          )
        : undefined,
    );
    const { lookup } = recordingLookup([GITHUB_V4]);
    const error = await sourceError(() =>
      fetchGitSource(exec, { ...baseOptions(), url: "https://github.com/octo/private.git", ref: "main", lookup }),
    );
    expect(error.code).toBe("clone_failed");
    expect(error.userMessage).toMatch(/does not exist or is private/);
  });

  it("maps a timeout and restores a pre-existing empty destination", async () => {
    await mkdir(dest);
    const { exec } = recordingExec((call) =>
      call.args.includes("clone")
        ? (async () => {
            await writeFile(path.join(dest, "partial"), "x");
            throw new CommandError({ kind: "timeout", file: call.file, args: call.args, timeoutMs: 10 });
          })()
        : undefined,
    );
    const { lookup } = recordingLookup([GITHUB_V4]);
    const error = await sourceError(() =>
      fetchGitSource(exec, { ...baseOptions(), url: "https://github.com/octo/repo.git", ref: "main", lookup }),
    );
    expect(error.code).toBe("timeout");
    expect(error.retryable).toBe(true);
    expect(await readdir(dest)).toEqual([]);
  });

  it("maps a missing git binary", async () => {
    const { exec } = recordingExec((call) =>
      Promise.reject(new CommandError({ kind: "spawn", file: call.file, args: call.args, spawnCode: "ENOENT" })),
    );
    const { lookup } = recordingLookup([GITHUB_V4]);
    const error = await sourceError(() =>
      fetchGitSource(exec, { ...baseOptions(), url: "https://github.com/octo/repo.git", ref: "main", lookup }),
    );
    expect(error.code).toBe("clone_failed");
    expect(error.userMessage).toMatch(/git is not available/);
  });

  it("refuses a non-empty destination without running anything", async () => {
    await mkdir(dest);
    await writeFile(path.join(dest, "keep"), "mine");
    const { exec, calls } = recordingExec();
    const { lookup } = recordingLookup([GITHUB_V4]);
    await expect(
      fetchGitSource(exec, { ...baseOptions(), url: "https://github.com/octo/repo.git", ref: "main", lookup }),
    ).rejects.toThrow(/not empty/);
    expect(calls).toEqual([]);
    expect(await readFile(path.join(dest, "keep"), "utf8")).toBe("mine");
  });
});

describe("runClone with real git", () => {
  // https cannot be served in a unit test; the real clone goes over file:// with the file protocol allowed
  // explicitly by the test (extraConfig). Production code never passes it, and the test below proves that without
  // it the hardened configuration refuses file://.
  const ALLOW_FILE = ["protocol.file.allow=always"];
  let repos: string;
  let remoteUrl: string;
  let firstSha: string;
  let mainSha: string;
  let featureSha: string;

  const gitEnv = () => ({
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: repos,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    LC_ALL: "C",
  });

  const git = async (cwd: string, ...args: string[]): Promise<string> =>
    (
      await execFileExecutor(
        "git",
        ["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgSign=false", ...args],
        { cwd, env: gitEnv(), timeoutMs: 30_000 },
      )
    ).stdout.trim();

  /** A bare repository holding one commit of `files` (and links), served as file://. */
  async function makeRepo(name: string, populate: (work: string) => Promise<void>): Promise<string> {
    const work = path.join(repos, `${name}-work`);
    await mkdir(work);
    await git(work, "init", "--quiet", "-b", "main");
    await populate(work);
    await git(work, "add", "-A");
    await git(work, "commit", "--quiet", "-m", "initial");
    const bare = path.join(repos, `${name}.git`);
    await git(repos, "clone", "--quiet", "--bare", work, bare);
    return pathToFileURL(bare).href;
  }

  beforeAll(async () => {
    repos = await mkdtemp(path.join(tmpdir(), "tsl-source-git-repos-"));
    const work = path.join(repos, "work");
    await mkdir(work);
    await git(work, "init", "--quiet", "-b", "main");
    await writeFile(path.join(work, "app.py"), "print('v1')\n");
    await writeFile(path.join(work, "README.md"), "# demo\n");
    await mkdir(path.join(work, "docs"));
    await writeFile(path.join(work, "docs", "guide.md"), "guide\n");
    await symlink("README.md", path.join(work, "README.link"));
    await symlink("../README.md", path.join(work, "docs", "readme"));
    await writeFile(path.join(work, "run.sh"), "#!/bin/sh\necho run\n");
    await chmod(path.join(work, "run.sh"), 0o755);
    await git(work, "add", "-A");
    await git(work, "commit", "--quiet", "-m", "one");
    await git(work, "tag", "v1");
    firstSha = await git(work, "rev-parse", "HEAD");
    await writeFile(path.join(work, "app.py"), "print('v2')\n");
    await git(work, "commit", "--quiet", "-am", "two");
    mainSha = await git(work, "rev-parse", "HEAD");
    await git(work, "checkout", "--quiet", "-b", "feature");
    await writeFile(path.join(work, "feature.txt"), "feature\n");
    await git(work, "add", "-A");
    await git(work, "commit", "--quiet", "-m", "feature");
    featureSha = await git(work, "rev-parse", "HEAD");
    await git(work, "checkout", "--quiet", "main");
    const bare = path.join(repos, "remote.git");
    await git(repos, "clone", "--quiet", "--bare", work, bare);
    remoteUrl = pathToFileURL(bare).href;
  });

  afterAll(async () => {
    await rm(repos, { recursive: true, force: true });
  });

  const clone = (ref: string | undefined, extra: Partial<Parameters<typeof runClone>[1]> = {}) =>
    runClone(execFileExecutor, {
      url: remoteUrl,
      ref,
      dest,
      timeoutMs: 30_000,
      maxBytes: 1024 * 1024,
      extraConfig: ALLOW_FILE,
      ...extra,
    });

  it("clones the default branch, keeps links inside the tree, drops .git", async () => {
    expect(await clone(undefined)).toEqual({ commitSha: mainSha, commitMessage: "two", commitAuthor: "Test" });
    expect((await readdir(dest)).sort()).toEqual(["README.link", "README.md", "app.py", "docs", "run.sh"]);
    expect(await readFile(path.join(dest, "app.py"), "utf8")).toBe("print('v2')\n");
    expect(await readlink(path.join(dest, "README.link"))).toBe("README.md");
    expect(await readlink(path.join(dest, "docs", "readme"))).toBe("../README.md");
    expect((await lstat(path.join(dest, "run.sh"))).mode & 0o111).not.toBe(0);
    expect(await exists(path.join(dest, ".git"))).toBe(false);
  });

  it("clones a branch", async () => {
    expect(await clone("feature")).toMatchObject({ commitSha: featureSha, commitMessage: "feature" });
    expect(await readFile(path.join(dest, "feature.txt"), "utf8")).toBe("feature\n");
  });

  it("clones a tag", async () => {
    expect(await clone("v1")).toMatchObject({ commitSha: firstSha });
    expect(await readFile(path.join(dest, "app.py"), "utf8")).toBe("print('v1')\n");
  });

  it("fetches a commit by SHA", async () => {
    expect(await clone(firstSha)).toMatchObject({ commitSha: firstSha });
    expect(await readFile(path.join(dest, "app.py"), "utf8")).toBe("print('v1')\n");
    expect(await exists(path.join(dest, ".git"))).toBe(false);
  });

  // A push deploys exactly its `after` commit, even once the branch has moved on (#14): the checkout of a pinned
  // SHA behind the branch head, with the subject and author read from git before .git is removed.
  it("checks out a pinned commit behind the branch head and reads its subject and author", async () => {
    const work = path.join(repos, "pinned-work");
    await mkdir(work);
    await git(work, "init", "--quiet", "-b", "main");
    await writeFile(path.join(work, "app.py"), "print('pushed')\n");
    await git(work, "add", "-A");
    await git(
      work,
      "-c",
      "user.name=Grace \u001b[31mHopper",
      "commit",
      "--quiet",
      "-m",
      "Deploy me\n\nThe body is not shown.",
    );
    const pushed = await git(work, "rev-parse", "HEAD");
    await writeFile(path.join(work, "app.py"), "print('later')\n");
    await git(work, "commit", "--quiet", "-am", "later");
    const bare = path.join(repos, "pinned.git");
    await git(repos, "clone", "--quiet", "--bare", work, bare);
    const result = await clone(pushed, { url: pathToFileURL(bare).href });
    expect(result).toEqual({ commitSha: pushed, commitMessage: "Deploy me", commitAuthor: "Grace [31mHopper" });
    expect(await readFile(path.join(dest, "app.py"), "utf8")).toBe("print('pushed')\n");
  });

  it("refuses file:// with the production configuration", async () => {
    const error = await sourceError(() => clone("main", { extraConfig: [] }));
    expect(error.code).toBe("clone_failed");
    expect(error.userMessage).toMatch(/transport 'file' not allowed/);
    expect(await exists(dest)).toBe(false);
  });

  it("reports a missing branch without host paths and leaves nothing behind", async () => {
    const error = await sourceError(() => clone("nope"));
    expect(error.code).toBe("clone_failed");
    expect(error.userMessage).toContain('"nope"');
    expect(error.userMessage).not.toContain(repos);
    expect(error.userMessage).not.toContain(scratch);
    expect(await exists(dest)).toBe(false);
  });

  it("refuses a repository larger than maxBytes and removes it", async () => {
    const url = await makeRepo("big", async (work) => {
      await writeFile(path.join(work, "blob.bin"), randomBytes(2 * 1024 * 1024));
    });
    const error = await sourceError(() => clone(undefined, { url }));
    expect(error.code).toBe("too_large");
    expect(await exists(dest)).toBe(false);
  });

  it.each([
    ["/etc/passwd", "an absolute link"],
    ["../../../../../../etc/passwd", "a link climbing out"],
    ["..", "a link to the parent"],
  ])("refuses a repository with a symbolic link to %j (%s)", async (target) => {
    const url = await makeRepo(`link-${Buffer.from(target).toString("hex").slice(0, 16)}`, async (work) => {
      await writeFile(path.join(work, "app.py"), "x\n");
      await symlink(target, path.join(work, "evil"));
    });
    const error = await sourceError(() => clone(undefined, { url }));
    expect(error.code).toBe("unsafe_path");
    expect(error.userMessage).toContain('"evil"');
    expect(await exists(dest)).toBe(false);
  });

  it("stops at the timeout", async () => {
    const error = await sourceError(() => clone(undefined, { timeoutMs: 1 }));
    expect(error.code).toBe("timeout");
    expect(await exists(dest)).toBe(false);
  });
});
