// How git reaches an SSH server without a shell. GIT_SSH_COMMAND and core.sshCommand are run by a shell, and
// GIT_SSH names a program that receives only git's own arguments. ssh reads its user configuration from the home
// directory of the passwd entry, not from $HOME, so a per-clone HOME cannot carry the settings either. So each clone
// gets its own directory (0700, inside the build workspace) holding the deploy key (0600), a known_hosts file with
// only the pinned keys of this host, an ssh config, and a tiny executable that GIT_SSH points at: a Node script
// (its #! line names this Node binary; the kernel starts it, no shell) that runs `ssh -F <config> <git's args>` with
// an argument array. `-F` makes ssh ignore every other configuration file, system-wide included.
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { knownHostsLine } from "./host-keys";

export type SshSetupInput = {
  /** Parent directory (the build workspace); the clone's ssh directory is made inside it and removed by cleanup. */
  parent: string;
  /** OpenSSH private key file contents. */
  privateKey: string;
  /** The host as written in the URL (brackets stripped for IPv6); the name the host keys are checked under. */
  host: string;
  /** The checked address to connect to, or null to let ssh resolve the host (private hosts allowed). */
  address: string | null;
  port: number;
  user: string;
  /** Confirmed keys of this host and port only. */
  hostKeys: readonly { keyType: string; publicKey: string }[];
  connectTimeoutS: number;
  sshPath?: string;
};

export type SshSetup = { env: Record<string, string>; dir: string; cleanup: () => Promise<void> };

function quoted(value: string): string {
  if (/["\n\r]/.test(value)) throw new Error("unsafe path for the ssh config");
  return `"${value}"`;
}

/** The alias the known_hosts entries and ssh's checks use: the URL's host, made a plain token. */
export function hostKeyAlias(host: string): string {
  return host.replace(/^\[|\]$/g, "").replace(/:/g, "-");
}

/** ssh_config for one clone. Why each: see the comments beside them. */
export function sshConfig(input: {
  hostName: string;
  alias: string;
  port: number;
  user: string;
  identityFile: string;
  knownHostsFile: string;
  connectTimeoutS: number;
}): string {
  return [
    "Host *",
    // Connect to the address that was checked (DNS is not asked again), verify the key under the URL's host name.
    `  HostName ${input.hostName}`,
    `  HostKeyAlias ${input.alias}`,
    `  Port ${input.port}`,
    `  User ${input.user}`,
    // Only the deploy key, never an agent or the worker user's own keys.
    `  IdentityFile ${quoted(input.identityFile)}`,
    "  IdentitiesOnly yes",
    "  IdentityAgent none",
    "  AddKeysToAgent no",
    "  PreferredAuthentications publickey",
    "  PasswordAuthentication no",
    "  KbdInteractiveAuthentication no",
    // Only the pinned keys; never add or learn one; no prompt.
    `  UserKnownHostsFile ${quoted(input.knownHostsFile)}`,
    "  GlobalKnownHostsFile /dev/null",
    "  StrictHostKeyChecking yes",
    "  UpdateHostKeys no",
    "  CheckHostIP no",
    "  VerifyHostKeyDNS no",
    "  HashKnownHosts no",
    "  BatchMode yes",
    `  ConnectTimeout ${input.connectTimeoutS}`,
    "  ServerAliveInterval 15",
    "  ServerAliveCountMax 4",
    // Nothing that runs a local command, forwards anything or outlives the clone.
    "  ProxyCommand none",
    "  ProxyJump none",
    "  PermitLocalCommand no",
    "  ForwardAgent no",
    "  ForwardX11 no",
    "  ClearAllForwardings yes",
    "  ControlMaster no",
    "  ControlPath none",
    "  Tunnel no",
    "  RequestTTY no",
    "  LogLevel ERROR",
    "",
  ].join("\n");
}

/** The GIT_SSH program: runs ssh with the clone's config and git's arguments, passes its exit status on. */
function wrapperScript(sshPath: string, configFile: string): string {
  return [
    `#!${process.execPath}`,
    '"use strict";',
    "// Written per clone by lib/build/source-git/ssh.ts: GIT_SSH takes no arguments, so this adds -F.",
    'const { spawnSync } = require("node:child_process");',
    `const result = spawnSync(${JSON.stringify(sshPath)}, ["-F", ${JSON.stringify(configFile)}, ...process.argv.slice(2)], { stdio: "inherit" });`,
    "process.exit(typeof result.status === 'number' ? result.status : 255);",
    "",
  ].join("\n");
}

/** Writes the clone's ssh directory and answers the environment git needs to use it. */
export async function prepareSsh(input: SshSetupInput): Promise<SshSetup> {
  const dir = await mkdtemp(path.join(input.parent, "git-ssh-"));
  await chmod(dir, 0o700);
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    const identityFile = path.join(dir, "id_deploy");
    const knownHostsFile = path.join(dir, "known_hosts");
    const configFile = path.join(dir, "config");
    const wrapper = path.join(dir, "ssh.cjs");
    const alias = hostKeyAlias(input.host);
    const key = input.privateKey.endsWith("\n") ? input.privateKey : `${input.privateKey}\n`;
    await writeFile(identityFile, key, { mode: 0o600, flag: "wx" });
    const lines = input.hostKeys.map((hostKey) => knownHostsLine(alias, hostKey));
    await writeFile(knownHostsFile, `${lines.join("\n")}\n`, { mode: 0o600, flag: "wx" });
    const config = sshConfig({
      hostName: (input.address ?? input.host).replace(/^\[|\]$/g, ""),
      alias,
      port: input.port,
      user: input.user,
      identityFile,
      knownHostsFile,
      connectTimeoutS: input.connectTimeoutS,
    });
    await writeFile(configFile, config, { mode: 0o600, flag: "wx" });
    await writeFile(wrapper, wrapperScript(input.sshPath ?? "ssh", configFile), { mode: 0o700, flag: "wx" });
    return { dir, cleanup, env: { GIT_SSH: wrapper, GIT_SSH_VARIANT: "ssh" } };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
