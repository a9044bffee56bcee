// A private sshd for the suite: its own config, host key, authorized_keys and pid file in a temp directory,
// listening on a free loopback port, in the foreground (-D) with its log on stderr (-e), as the current user. Never
// the system's sshd or its configuration. Available only where openssh-server is installed (.ci/run installs it).
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const SSHD_PATHS = ["/usr/sbin/sshd", "/usr/local/sbin/sshd"];

export function sshdPath(): string | null {
  return SSHD_PATHS.find((candidate) => existsSync(candidate)) ?? null;
}

export type TestSshd = {
  port: number;
  /** The user the server accepts (the current user). */
  user: string;
  /** The server's host key, as known_hosts fields. */
  hostKey: { keyType: string; publicKey: string };
  /** Replaces the authorized keys (OpenSSH public key lines). */
  authorize(publicKeys: string[]): Promise<void>;
  /** What sshd logged so far. */
  log(): string;
  close(): Promise<void>;
};

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Resolves once the server sends its SSH banner. */
async function waitForBanner(port: number, child: ChildProcess, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`sshd exited with ${child.exitCode}`);
    const banner = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.setTimeout(1000);
      socket.once("data", (data) => {
        socket.destroy();
        resolve(data.toString().startsWith("SSH-"));
      });
      socket.once("error", () => resolve(false));
      socket.once("timeout", () => {
        socket.destroy();
        resolve(false);
      });
    });
    if (banner) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("sshd did not start");
}

export async function startSshd(): Promise<TestSshd> {
  const binary = sshdPath();
  if (binary === null) throw new Error("sshd is not installed");
  const dir = await mkdtemp(path.join(tmpdir(), "tsl-sshd-"));
  const hostKeyFile = path.join(dir, "host_ed25519");
  const authorizedKeys = path.join(dir, "authorized_keys");
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "tussilago-test-sshd", "-f", hostKeyFile]);
  await writeFile(authorizedKeys, "", { mode: 0o600 });
  const [keyType = "", publicKey = ""] = (await readFile(`${hostKeyFile}.pub`, "utf8")).trim().split(/\s+/);
  const user = userInfo().username;
  // Running as root, sshd wants its privilege separation directory (Debian's package makes it at boot only).
  if (process.getuid?.() === 0) await mkdir("/run/sshd", { recursive: true, mode: 0o755 });
  const port = await freePort();
  const config = path.join(dir, "sshd_config");
  await writeFile(
    config,
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${hostKeyFile}`,
      `PidFile ${path.join(dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${authorizedKeys}`,
      `AllowUsers ${user}`,
      "PermitRootLogin prohibit-password",
      "PubkeyAuthentication yes",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "UsePAM no",
      // The temp directory's modes are not what StrictModes expects of a home directory.
      "StrictModes no",
      "AllowTcpForwarding no",
      "X11Forwarding no",
      "PrintMotd no",
      "LogLevel VERBOSE",
      "",
    ].join("\n"),
  );
  let log = "";
  const child = spawn(binary, ["-D", "-e", "-f", config], { stdio: ["ignore", "ignore", "pipe"] });
  child.stderr?.on("data", (chunk: Buffer) => {
    log += chunk.toString();
  });
  try {
    await waitForBanner(port, child, 10_000);
  } catch (error) {
    child.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
    throw new Error(`${(error as Error).message}: ${log}`);
  }
  return {
    port,
    user,
    hostKey: { keyType, publicKey },
    async authorize(publicKeys) {
      await writeFile(authorizedKeys, `${publicKeys.join("\n")}\n`, { mode: 0o600 });
    },
    log: () => log,
    async close() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
