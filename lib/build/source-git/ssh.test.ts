// The SSH clone's wiring without a server: what git is given (GIT_SSH wrapper, per-clone config, key and known_hosts
// files), that ssh connects to the address that was checked while verifying the key under the URL's host name, and
// that a host resolving to a private address is refused before any credential is asked for or command run.
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ExecResult, Executor } from "@/lib/infra/exec";
import { SourceError } from "../source-errors";
import { fetchGitSource, type GitAccess, type HostLookup } from "./index";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAAtestkeymaterialAAAA\n-----END OPENSSH PRIVATE KEY-----\n";
const HOST_KEY = {
  keyType: "ssh-ed25519",
  publicKey: "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
};

let workspace: string;
beforeEach(async () => {
  workspace = await mkdtemp(path.join(tmpdir(), "tsl-ssh-wiring-"));
});
afterEach(async () => {
  await rm(workspace, { recursive: true, force: true });
});

function lookupOf(address: string): HostLookup {
  return async () => [{ address, family: address.includes(":") ? 6 : 4 }];
}

function accessStub(asked: unknown[]): GitAccess {
  return {
    httpsToken: async () => null,
    ssh: async (target) => {
      asked.push(target);
      return { privateKey: KEY, hostKeys: [HOST_KEY] };
    },
  };
}

describe("fetchGitSource over SSH", () => {
  it("connects to the checked address, checks the key under the host name, with files only git's ssh reads", async () => {
    const seen: { files: Record<string, string>; keyMode: number; env: Record<string, string> }[] = [];
    const exec: Executor = async (_file, args, options): Promise<ExecResult> => {
      const env = options.env ?? {};
      if (args.includes("clone")) {
        const dir = path.dirname(env.GIT_SSH ?? "");
        const files: Record<string, string> = {};
        for (const name of await readdir(dir)) files[name] = await readFile(path.join(dir, name), "utf8");
        seen.push({ files, keyMode: (await stat(path.join(dir, "id_deploy"))).mode & 0o777, env });
        const dest = args.at(-1) ?? "";
        const { mkdir, writeFile } = await import("node:fs/promises");
        await mkdir(path.join(dest, ".git"), { recursive: true });
        await writeFile(path.join(dest, "app.py"), "print(1)\n");
      }
      const stdout = args.includes("rev-parse") ? "3f786850e387550fdab836ed7e6dc881de23001b\n" : "";
      return { stdout, stderr: "", exitCode: 0, durationMs: 1 };
    };
    const asked: unknown[] = [];
    const result = await fetchGitSource(exec, {
      url: "deploy@git.example.org:octo/app.git",
      dest: path.join(workspace, "src"),
      timeoutMs: 30_000,
      maxBytes: 1024 * 1024,
      allowPrivateHosts: false,
      lookup: lookupOf("140.82.121.3"),
      access: accessStub(asked),
    });
    expect(result.commitSha).toBe("3f786850e387550fdab836ed7e6dc881de23001b");
    expect(asked).toEqual([{ host: "git.example.org", port: 22, address: "140.82.121.3" }]);
    const [clone] = seen;
    expect(clone?.env.GIT_SSH_VARIANT).toBe("ssh");
    expect(clone?.env).not.toHaveProperty("GIT_SSH_COMMAND");
    expect(clone?.keyMode).toBe(0o600);
    expect(clone?.files.id_deploy).toBe(KEY);
    expect(clone?.files.known_hosts).toBe(`git.example.org ssh-ed25519 ${HOST_KEY.publicKey}\n`);
    const config = clone?.files.config ?? "";
    for (const line of [
      "HostName 140.82.121.3",
      "HostKeyAlias git.example.org",
      "User deploy",
      "StrictHostKeyChecking yes",
      "BatchMode yes",
      "IdentitiesOnly yes",
      "IdentityAgent none",
      "GlobalKnownHostsFile /dev/null",
      "ProxyCommand none",
    ]) {
      expect(config).toContain(`  ${line}\n`);
    }
    const wrapper = clone?.files["ssh.cjs"] ?? "";
    expect(wrapper.startsWith(`#!${process.execPath}\n`)).toBe(true);
    expect(wrapper).toContain('["-F", ');
    // The key and its directory are gone once the clone is done.
    expect((await readdir(workspace)).filter((name) => name.startsWith("git-ssh-"))).toEqual([]);
  });

  it("refuses a host that resolves to a private address before asking for credentials or running anything", async () => {
    const asked: unknown[] = [];
    const calls: string[] = [];
    const exec: Executor = async (file) => {
      calls.push(file);
      return { stdout: "", stderr: "", exitCode: 0, durationMs: 1 };
    };
    let error: unknown;
    try {
      await fetchGitSource(exec, {
        url: "ssh://git@rebind.example/octo/app.git",
        dest: path.join(workspace, "src"),
        timeoutMs: 30_000,
        maxBytes: 1024 * 1024,
        allowPrivateHosts: false,
        lookup: lookupOf("10.0.0.7"),
        access: accessStub(asked),
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SourceError);
    expect((error as SourceError).code).toBe("forbidden_host");
    expect(asked).toEqual([]);
    expect(calls).toEqual([]);
  });
});
