// Real git over HTTPS for the suite: bare repositories served by `git http-backend` (CGI, one process per request)
// behind a node:https server whose certificate comes from a test CA made with openssl. Optionally the server
// requires a token (HTTP Basic), as a forge does for a private repository. Loopback only; tests pass
// TUSSILAGO_GIT_ALLOW_PRIVATE_HOSTS=1 (allowPrivateHosts) to clone from it.
import { execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Runs git with an environment that ignores the machine's configuration; answers stdout trimmed. */
export async function gitIn(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run("git", args, {
    cwd,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: cwd,
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_AUTHOR_NAME: "Test Author",
      GIT_AUTHOR_EMAIL: "author@example.test",
      GIT_COMMITTER_NAME: "Test Author",
      GIT_COMMITTER_EMAIL: "author@example.test",
    } as Record<string, string> as NodeJS.ProcessEnv,
  });
  return stdout.trim();
}

/** A bare repository `<root>/<name>.git` with one commit holding app.py; answers its commit SHA. */
export async function makeBareRepo(root: string, name: string, files: Record<string, string> = {}): Promise<string> {
  const work = await mkdtemp(path.join(tmpdir(), "tsl-git-work-"));
  try {
    await gitIn(work, "init", "--quiet", "-b", "main");
    const content = { "app.py": "print('hello')\n", ...files };
    for (const [file, text] of Object.entries(content)) {
      await mkdir(path.dirname(path.join(work, file)), { recursive: true });
      await writeFile(path.join(work, file), text);
    }
    await gitIn(work, "add", "-A");
    await gitIn(work, "commit", "--quiet", "-m", "initial commit");
    const sha = await gitIn(work, "rev-parse", "HEAD");
    await gitIn(root, "clone", "--quiet", "--bare", work, path.join(root, `${name}.git`));
    return sha;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export type TestCa = { dir: string; caFile: string; certFile: string; keyFile: string };

/** A CA and a server certificate for 127.0.0.1 and localhost, made with openssl (as a forge's internal CA would be). */
export async function makeTestCa(dir: string): Promise<TestCa> {
  const caKey = path.join(dir, "ca.key");
  const caFile = path.join(dir, "ca.pem");
  const keyFile = path.join(dir, "server.key");
  const csr = path.join(dir, "server.csr");
  const certFile = path.join(dir, "server.pem");
  const ext = path.join(dir, "server.ext");
  await run("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", caKey]);
  await run("openssl", [
    "req",
    "-x509",
    "-new",
    "-key",
    caKey,
    "-sha256",
    "-days",
    "2",
    "-subj",
    "/CN=Tussilago test git CA",
    "-out",
    caFile,
  ]);
  await run("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", keyFile]);
  await run("openssl", ["req", "-new", "-key", keyFile, "-subj", "/CN=localhost", "-out", csr]);
  await writeFile(ext, "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  await run("openssl", [
    "x509",
    "-req",
    "-in",
    csr,
    "-CA",
    caFile,
    "-CAkey",
    caKey,
    "-CAcreateserial",
    "-days",
    "2",
    "-sha256",
    "-extfile",
    ext,
    "-out",
    certFile,
  ]);
  return { dir, caFile, certFile, keyFile };
}

export type GitHttpsServer = {
  /** https://127.0.0.1:<port> */
  origin: string;
  caFile: string;
  /** The repositories' directory; makeBareRepo(server.root, name) adds one. */
  root: string;
  /** Every request's Authorization header (or null), in order. */
  authorizations: (string | null)[];
  /** Require HTTP Basic with this user and token from now on (null: public). */
  requireToken(auth: { username: string; token: string } | null): void;
  close(): Promise<void>;
};

/** Splits a CGI answer's headers from its body. */
function parseCgiHead(head: string): { status: number; headers: [string, string][] } {
  let status = 200;
  const headers: [string, string][] = [];
  for (const line of head.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === "status") status = Number.parseInt(value, 10) || 500;
    else headers.push([name, value]);
  }
  return { status, headers };
}

export async function startGitHttpsServer(): Promise<GitHttpsServer> {
  const dir = await mkdtemp(path.join(tmpdir(), "tsl-git-https-"));
  const root = path.join(dir, "repos");
  await mkdir(root);
  const ca = await makeTestCa(dir);
  const authorizations: (string | null)[] = [];
  let required: string | null = null;
  const server: Server = createServer(
    { key: await readFile(ca.keyFile), cert: await readFile(ca.certFile) },
    (request, response) => {
      authorizations.push(request.headers.authorization ?? null);
      if (required !== null && request.headers.authorization !== required) {
        response.writeHead(401, { "WWW-Authenticate": 'Basic realm="test"' }).end();
        return;
      }
      const url = new URL(request.url ?? "/", "https://127.0.0.1");
      const child = spawn("git", ["http-backend"], {
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          GIT_PROJECT_ROOT: root,
          GIT_HTTP_EXPORT_ALL: "1",
          GIT_CONFIG_NOSYSTEM: "1",
          GIT_CONFIG_GLOBAL: "/dev/null",
          REQUEST_METHOD: request.method ?? "GET",
          PATH_INFO: decodeURIComponent(url.pathname),
          QUERY_STRING: url.search.slice(1),
          CONTENT_TYPE: request.headers["content-type"] ?? "",
          ...(request.headers["content-length"] ? { CONTENT_LENGTH: request.headers["content-length"] } : {}),
          ...(request.headers["content-encoding"]
            ? { HTTP_CONTENT_ENCODING: request.headers["content-encoding"] }
            : {}),
          ...(typeof request.headers["git-protocol"] === "string"
            ? { GIT_PROTOCOL: request.headers["git-protocol"] }
            : {}),
          REMOTE_ADDR: "127.0.0.1",
          // Next's types declare NODE_ENV as always present in ProcessEnv; a child's environment need not have it.
        } as Record<string, string> as NodeJS.ProcessEnv,
        stdio: ["pipe", "pipe", "ignore"],
      });
      request.pipe(child.stdin);
      let buffered = Buffer.alloc(0);
      let headSent = false;
      child.stdout.on("data", (chunk: Buffer) => {
        if (headSent) {
          response.write(chunk);
          return;
        }
        buffered = Buffer.concat([buffered, chunk]);
        const text = buffered.toString("latin1");
        const end = text.search(/\r?\n\r?\n/);
        if (end < 0) return;
        const separator = text.slice(end).startsWith("\r\n\r\n") ? 4 : text.slice(end).startsWith("\r\n") ? 3 : 2;
        const { status, headers } = parseCgiHead(text.slice(0, end));
        response.writeHead(status, headers);
        headSent = true;
        response.write(buffered.subarray(end + separator));
      });
      child.on("close", () => {
        if (!headSent) response.writeHead(500);
        response.end();
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `https://127.0.0.1:${port}`,
    caFile: ca.caFile,
    root,
    authorizations,
    requireToken(auth) {
      required = auth ? `Basic ${Buffer.from(`${auth.username}:${auth.token}`).toString("base64")}` : null;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
