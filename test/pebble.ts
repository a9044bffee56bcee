// A private ACME CA for tests and the host smoke: Debian's `pebble` (Let's Encrypt's test CA) with
// `pebble-challtestsrv` as its DNS and ours. Everything listens on loopback ports picked here, in a directory of the
// caller's choosing, and stops with stop(): nothing of the host (its Caddy, its resolver) is touched.
// PEBBLE_VA_ALWAYS_VALID=1 skips challenge validation (a test cannot receive the CA's HTTP-01 request on port 80);
// ownership is still proven to the platform through the DNS records set here.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { Agent, request } from "undici";
import { freePort } from "@/lib/database/embedded";

const execFileAsync = promisify(execFile);

export type Pebble = {
  /** The ACME directory URL, for TUSSILAGO_ACME_CA. */
  directoryUrl: string;
  /** PEM file of the CA that signed Pebble's own HTTPS listener, for TUSSILAGO_ACME_CA_ROOT. */
  listenerRootPath: string;
  /** "127.0.0.1:<port>": the DNS server, for TUSSILAGO_DNS_RESOLVERS. */
  dnsAddress: string;
  /** The root that signs the certificates Pebble issues (it changes on every Pebble start). */
  issuerRootPem(): Promise<string>;
  setTxt(host: string, value: string): Promise<void>;
  clearTxt(host: string): Promise<void>;
  addA(host: string, addresses: readonly string[]): Promise<void>;
  clearA(host: string): Promise<void>;
  stop(): Promise<void>;
};

export function pebbleInstalled(): Promise<boolean> {
  return Promise.all(
    ["pebble", "pebble-challtestsrv", "openssl"].map((binary) =>
      execFileAsync("which", [binary], { timeout: 5_000 }).then(
        () => true,
        () => false,
      ),
    ),
  ).then((found) => found.every(Boolean));
}

async function waitUntil(what: string, probe: () => Promise<boolean>, child: ChildProcess, logFile: string) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      const log = await fs.readFile(logFile, "utf8").catch(() => "");
      throw new Error(`${what} exited with code ${child.exitCode}:\n${log.slice(-2_000)}`);
    }
    if (await probe().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} did not come up within 30 s; see ${logFile}`);
}

async function startChild(binary: string, args: string[], dir: string, name: string, env: NodeJS.ProcessEnv) {
  const logFile = path.join(dir, `${name}.log`);
  const log = await fs.open(logFile, "a");
  const child = spawn(binary, args, { cwd: dir, env, stdio: ["ignore", log.fd, log.fd] });
  await log.close();
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  };
  return { child, logFile, stop };
}

/** Starts pebble-challtestsrv and pebble in `dir` (created if missing). */
export async function startPebble(dir: string): Promise<Pebble> {
  await fs.mkdir(dir, { recursive: true });
  const key = path.join(dir, "listener-key.pem");
  const cert = path.join(dir, "listener-cert.pem");
  // Pebble serves its directory over HTTPS only: a throwaway self-signed certificate for 127.0.0.1 made by openssl.
  await execFileAsync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "2",
      "-subj",
      "/CN=pebble test listener",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
    ],
    { timeout: 30_000 },
  );
  const [dnsPort, dnsManagementPort, acmePort, managementPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const dnsAddress = `127.0.0.1:${dnsPort}`;
  const baseEnv = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir } as Record<
    string,
    string
  > as NodeJS.ProcessEnv;
  const dns = await startChild(
    "pebble-challtestsrv",
    [
      "-dns01",
      dnsAddress,
      "-http01",
      "",
      "-https01",
      "",
      "-tlsalpn01",
      "",
      "-management",
      `127.0.0.1:${dnsManagementPort}`,
      "-defaultIPv4",
      "",
      "-defaultIPv6",
      "",
    ],
    dir,
    "challtestsrv",
    baseEnv,
  );
  const dnsApi = `http://127.0.0.1:${dnsManagementPort}`;
  const post = async (endpoint: string, body: unknown) => {
    const answer = await request(`${dnsApi}${endpoint}`, {
      method: "POST",
      body: JSON.stringify(body),
      headersTimeout: 5_000,
      bodyTimeout: 5_000,
    });
    await answer.body.text();
    if (answer.statusCode >= 300) throw new Error(`challtestsrv ${endpoint} answered ${answer.statusCode}`);
  };
  try {
    await waitUntil(
      "pebble-challtestsrv",
      async () => {
        await post("/clear-txt", { host: "_probe.invalid." });
        return true;
      },
      dns.child,
      dns.logFile,
    );
  } catch (error) {
    await dns.stop();
    throw error;
  }

  const configFile = path.join(dir, "pebble-config.json");
  await fs.writeFile(
    configFile,
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${acmePort}`,
        managementListenAddress: `127.0.0.1:${managementPort}`,
        certificate: cert,
        privateKey: key,
        httpPort: 5002,
        tlsPort: 5001,
        ocspResponderURL: "",
        externalAccountBindingRequired: false,
      },
    }),
  );
  const pebble = await startChild("pebble", ["-config", configFile, "-dnsserver", dnsAddress], dir, "pebble", {
    ...baseEnv,
    PEBBLE_VA_ALWAYS_VALID: "1",
    PEBBLE_VA_NOSLEEP: "1",
    // Pebble rejects 5% of nonces by default to exercise clients' retries; a test wants determinism.
    PEBBLE_WFE_NONCEREJECT: "0",
    PEBBLE_AUTHZREUSE: "100",
  });
  const agent = new Agent({ connect: { ca: await fs.readFile(cert, "utf8") } });
  const stopAll = async () => {
    await pebble.stop();
    await dns.stop();
    await agent.close();
  };
  const directoryUrl = `https://127.0.0.1:${acmePort}/dir`;
  try {
    await waitUntil(
      "pebble",
      async () => {
        const answer = await request(directoryUrl, { dispatcher: agent, headersTimeout: 5_000 });
        await answer.body.text();
        return answer.statusCode === 200;
      },
      pebble.child,
      pebble.logFile,
    );
  } catch (error) {
    await stopAll();
    throw error;
  }

  const fqdn = (host: string) => (host.endsWith(".") ? host : `${host}.`);
  return {
    directoryUrl,
    listenerRootPath: cert,
    dnsAddress,
    async issuerRootPem() {
      const answer = await request(`https://127.0.0.1:${managementPort}/roots/0`, {
        dispatcher: agent,
        headersTimeout: 5_000,
      });
      const pem = await answer.body.text();
      if (answer.statusCode !== 200) throw new Error(`pebble /roots/0 answered ${answer.statusCode}`);
      return pem;
    },
    setTxt: (host, value) => post("/set-txt", { host: fqdn(host), value }),
    clearTxt: (host) => post("/clear-txt", { host: fqdn(host) }),
    addA: (host, addresses) => post("/add-a", { host: fqdn(host), addresses }),
    clearA: (host) => post("/clear-a", { host: fqdn(host) }),
    stop: stopAll,
  };
}
