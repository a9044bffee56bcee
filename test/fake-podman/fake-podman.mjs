// A stand-in for podman 4.3 that keeps its state in $FAKE_PODMAN_STATE/state.json, so the real adapter
// (lib/infra/podman.ts with execFileExecutor) can be exercised end to end on machines without podman or gVisor.
// Started through ./podman. It answers like podman: exit code 125 and "Error: ..." on stderr for errors, the same
// "no such container" / "image not known" / "network not found" wordings, and the JSON shapes of --format json.
//
// Beyond podman, it refuses `run` without the platform's hardening flags, so integration tests catch a regression in
// the argument builder, and it appends every invocation to $FAKE_PODMAN_STATE/calls.jsonl.
//
// Failure injection, by command key (BUILD, RUN, PS, STOP, RM, LOGS, IMAGE_RM, NETWORK_CREATE, ...):
//   FAKE_PODMAN_FAIL_<KEY>=<exit code>   write an error to stderr and exit with that code (e.g. FAIL_BUILD=1)
//   FAKE_PODMAN_HANG_<KEY>=1             never answer (to test timeouts)
//   FAKE_PODMAN_RUN_EXIT_CODE=<n>        containers started by `run` have already exited with n (one-off commands)
//   FAKE_PODMAN_RUN_EXIT_MATCH=<regex>   ... only those whose name matches (e.g. "-release$"); the others keep running
//   FAKE_PODMAN_RUN_OUTPUT=<text>        ... and print these lines (on stdout) after the fake's own start line
//   $FAKE_PODMAN_STATE/serve-http (a file)  containers started by `run` answer HTTP 200 on their published host ports (a
//                                        small detached server per container, gone within a second of the container
//                                        stopping or being removed), so a release passes its health check end to end
//   FAKE_PODMAN_RUNTIMES=<r1,r2,...>     the OCI runtimes podman knows; any other --runtime fails like podman's
//                                        "default OCI runtime ... not found" (a host without gVisor installed)
//   FAKE_PODMAN_HOST_PORTS=<p1,p2,...>   host ports for `--publish 127.0.0.1::<port>`, taken in order (the first one
//                                        no container holds), so a test can listen on them and answer health checks
//   FAKE_PODMAN_BUILD_OUTPUT=<text>      printed by `build` after its steps, "{context}" replaced by the context
//                                        directory (host paths and resolver addresses, as buildah prints them)
//   FAKE_PODMAN_ONBUILD_IMAGES=<r1,...>  images `pull` fetches carry an ONBUILD trigger in their config
//   FAKE_PODMAN_REGISTRY_UNREACHABLE=1   an image not stored locally cannot be fetched: `pull` and a `build` whose base
//                                        image is missing fail as podman does when the registry's name does not
//                                        resolve (an air-gapped host, a broken DNS)
//   FAKE_PODMAN_KILL_ON=<KEY>:<n>        after the n-th successful <KEY> command (counted across invocations), SIGKILL
//                                        the calling process (the worker: the executor spawns podman directly, no
//                                        shell) once, and write $FAKE_PODMAN_STATE/killed, so a fault-injection test
//                                        crashes the worker at an exact step and knows it did
//   FAKE_PODMAN_KILL_DURING=<KEY>:<n>    the same, but the n-th <KEY> command is cut off before it changes anything
//                                        (the worker dies while, say, `build` runs; the interrupted build leaves
//                                        nothing behind, as buildah removes its working container)
//   FAKE_PODMAN_EXIT_ON=<regex>:<code>  running containers whose name matches exit with <code> (a crash) as the next
//                                        command of any kind runs, with a last log line; `start` brings one back,
//                                        and it crashes again at the command after, so a crash loop needs no timing
//   FAKE_PODMAN_STATS=<file>             `stats` figures per container name from a JSON file (see statsFigures)
//   FAKE_PODMAN_HANG_ON=<KEY>:<n>        only the n-th <KEY> command never answers (counted across invocations); the
//                                        others answer, so a test sees the executor's timeout and the retry converge

import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";

const VERSION = "4.3.1";
const MIN_PIDS_LIMIT = 512;

class Exit extends Error {
  constructor(code, stderr = "", stdout = "") {
    super(stderr);
    this.code = code;
    this.stderr = stderr;
    this.stdout = stdout;
  }
}

const fail = (message, code = 125, stdout = "") => new Exit(code, `Error: ${message}\n`, stdout);

// ---------------------------------------------------------------------------------------------------------------
// State

const stateDir = process.env.FAKE_PODMAN_STATE;

function emptyState() {
  return { containers: [], images: [], networks: [{ name: "podman", id: randomId(), internal: false, labels: {} }] };
}

function loadState() {
  try {
    return JSON.parse(readFileSync(join(stateDir, "state.json"), "utf8"));
  } catch (err) {
    if (err.code === "ENOENT") return emptyState();
    throw err;
  }
}

function saveState(state) {
  // Rename is atomic: a concurrent reader sees the old or the new state, never half of it.
  const tmp = join(stateDir, `state.json.${process.pid}.tmp`);
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, join(stateDir, "state.json"));
}

function sleepSync(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

// podman serializes through its own locks; a lock directory does the same for concurrent fake invocations.
function withLock(fn) {
  const lock = join(stateDir, "lock");
  for (let attempt = 0; ; attempt += 1) {
    try {
      mkdirSync(lock);
      break;
    } catch (err) {
      if (err.code !== "EEXIST") throw err;
      // A lock older than a few seconds belongs to a killed invocation.
      if (attempt > 500 || Date.now() - statSync(lock).mtimeMs > 5_000) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      sleepSync(10);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers

function randomId() {
  return randomBytes(32).toString("hex");
}

function now() {
  return new Date().toISOString();
}

// Local short names resolve under localhost/ with the tag "latest", as podman does for locally built images.
function normalizeImage(ref) {
  let name = ref;
  const slash = name.indexOf("/");
  const first = slash === -1 ? "" : name.slice(0, slash);
  if (slash === -1 || !(first.includes(".") || first.includes(":") || first === "localhost")) {
    name = `localhost/${name}`;
  }
  const lastPart = name.slice(name.lastIndexOf("/"));
  if (!name.includes("@") && !lastPart.includes(":")) name = `${name}:latest`;
  return name;
}

function findImage(state, ref) {
  const id = ref.startsWith("sha256:") ? ref.slice(7) : ref;
  return (
    state.images.find((image) => image.names.includes(normalizeImage(ref))) ??
    state.images.find((image) => /^[0-9a-f]{3,64}$/.test(id) && image.id.startsWith(id))
  );
}

function findContainer(state, ref) {
  return (
    state.containers.find((c) => c.name === ref) ??
    state.containers.find((c) => /^[0-9a-f]{3,64}$/.test(ref) && c.id.startsWith(ref))
  );
}

const noSuchContainer = (ref, code = 125) =>
  fail(`no container with name or ID "${ref}" found: no such container`, code);

function parseBytes(value) {
  const match = /^([0-9]+(?:\.[0-9]+)?)([bkmg]?)$/i.exec(value ?? "");
  if (match === null) return null;
  const unit = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[match[2].toLowerCase()];
  return Math.round(Number(match[1]) * unit);
}

// go-units HumanSize: decimal units, four significant digits.
function humanSize(bytes) {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${Number(value.toPrecision(4))}${units[unit]}`;
}

function parseKeyValues(entries) {
  const result = {};
  for (const entry of entries ?? []) {
    const index = entry.indexOf("=");
    if (index === -1) result[entry] = "";
    else result[entry.slice(0, index)] = entry.slice(index + 1);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------------------------
// Flags, parsed the way cobra/pflag does: --name value, --name=value, bool flags, "--" ends the flags.
// Types: "bool", "value", "multi" (repeatable), "opt" (value only with "=", like podman build --pull).

function parseFlags(command, args, spec, { interspersed = true } = {}) {
  const short = new Map(Object.entries(spec).flatMap(([name, def]) => (def.short ? [[def.short, name]] : [])));
  const flags = {};
  const positional = [];
  const usage = (message) => fail(`${message}\nSee 'podman ${command} --help'`);
  for (let i = 0; i < args.length; ) {
    const arg = args[i++];
    if (arg === "--") {
      positional.push(...args.slice(i));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positional.push(arg);
      if (!interspersed) {
        positional.push(...args.slice(i));
        break;
      }
      continue;
    }
    let name;
    let inline;
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq === -1 ? undefined : arg.slice(eq + 1);
      if (spec[name] === undefined) throw usage(`unknown flag: --${name}`);
    } else {
      name = short.get(arg.slice(1, 2));
      inline = arg.length > 2 ? arg.slice(2).replace(/^=/, "") : undefined;
      if (name === undefined) throw usage(`unknown shorthand flag: '${arg.slice(1, 2)}' in ${arg}`);
    }
    const def = spec[name];
    let value;
    if (def.type === "bool") {
      if (inline !== undefined && !["true", "false"].includes(inline)) {
        throw usage(
          `invalid argument "${inline}" for "--${name}" flag: strconv.ParseBool: parsing "${inline}": invalid syntax`,
        );
      }
      value = inline === undefined ? true : inline === "true";
    } else if (def.type === "opt") {
      value = inline ?? def.default;
    } else {
      value = inline ?? args[i++];
      if (value === undefined) throw usage(`flag needs an argument: --${name}`);
    }
    if (def.type === "multi") flags[name] = [...(flags[name] ?? []), value];
    else flags[name] = value;
  }
  return { flags, positional };
}

const bool = (short) => ({ type: "bool", short });
const value = (short) => ({ type: "value", short });
const multi = (short) => ({ type: "multi", short });

function requireJsonFormat(flags) {
  if (flags.format !== undefined && flags.format !== "json") {
    throw fail(`fake-podman: only --format json is supported, not ${JSON.stringify(flags.format)}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Commands

function build(state, args, globals) {
  const { flags, positional } = parseFlags("build", args, {
    runtime: value(),
    "runtime-flag": multi(),
    isolation: value(),
    file: value("f"),
    tag: multi("t"),
    pull: { type: "opt", default: "always" },
    "no-cache": bool(),
    network: value(),
    memory: value("m"),
    "memory-swap": value(),
    "cpu-period": value(),
    "cpu-quota": value(),
    label: multi(),
    "build-arg": multi(),
    ulimit: multi(),
    "cgroup-parent": value(),
    layers: bool(),
    quiet: bool("q"),
  });
  if (positional.length !== 1) throw fail("fake-podman: build takes exactly one context directory");
  // Beyond podman: builds without a process bound are refused, like unhardened runs.
  const nproc = (flags.ulimit ?? []).map((u) => /^nproc=(\d+):(\d+)$/.exec(u)).find(Boolean);
  if (!nproc || Number(nproc[1]) < 2048) throw fail("fake-podman: refusing a build without --ulimit nproc >= 2048");
  if ((flags.runtime ?? globals.runtime) === undefined) throw fail("fake-podman: refusing a build without --runtime");
  if (flags.network === "host") throw fail("fake-podman: refusing a build with host networking");
  const context = positional[0];
  if (!statSync(context, { throwIfNoEntry: false })?.isDirectory()) {
    throw fail(`no such file or directory: stat ${context}`);
  }
  const file = flags.file ?? join(context, "Containerfile");
  let text;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw fail(`the specified Containerfile or Dockerfile does not exist, ${file}: no such file or directory`);
  }
  const steps = text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
  const from = steps.find((line) => /^FROM\s/i.test(line));
  if (from === undefined) throw fail("no FROM statement found");
  const base = from.split(/\s+/)[1];
  let stdout = "";
  for (const [index, line] of steps.entries()) stdout += `STEP ${index + 1}/${steps.length}: ${line}\n`;
  if (base !== "scratch" && findImage(state, base) === undefined) {
    if (flags.pull === "never") throw fail(`creating build container: ${normalizeImage(base)}: image not known`);
    if (process.env.FAKE_PODMAN_REGISTRY_UNREACHABLE) throw registryUnreachable(base, "creating build container: ");
    state.images.push({ id: randomId(), names: [normalizeImage(base)], created: now(), labels: {}, config: {} });
  }
  const exposed = steps.filter((line) => /^EXPOSE\s/i.test(line)).flatMap((line) => line.split(/\s+/).slice(1));
  const user = steps.findLast((line) => /^USER\s/i.test(line))?.split(/\s+/)[1] ?? "";
  const tags = (flags.tag ?? []).map(normalizeImage);
  const id = randomId();
  for (const image of state.images) image.names = image.names.filter((name) => !tags.includes(name));
  state.images.push({
    id,
    names: tags,
    created: now(),
    labels: parseKeyValues(flags.label),
    size: 1024 * 1024,
    config: {
      User: user,
      ExposedPorts: Object.fromEntries(exposed.map((port) => [port.includes("/") ? port : `${port}/tcp`, {}])),
    },
  });
  if (process.env.FAKE_PODMAN_BUILD_OUTPUT) {
    stdout += `${process.env.FAKE_PODMAN_BUILD_OUTPUT.replaceAll("{context}", context)}\n`;
  }
  for (const tag of tags) stdout += `COMMIT ${tag}\n`;
  stdout += `--> ${id.slice(0, 12)}\n`;
  for (const tag of tags) stdout += `Successfully tagged ${tag}\n`;
  stdout += `${id}\n`;
  return { stdout };
}

/** podman 4.3's words for an image whose registry name does not resolve (FAKE_PODMAN_REGISTRY_UNREACHABLE). */
function registryUnreachable(ref, prefix) {
  const image = normalizeImage(ref);
  const host = image.split("/")[0];
  return new Exit(
    125,
    `Trying to pull ${image}...\nError: ${prefix}initializing source docker://${image}: pinging container registry ${host}: ` +
      `Get "https://${host}/v2/": dial tcp: lookup ${host} on 127.0.0.53:53: no such host\n`,
  );
}

function pull(state, args) {
  const { positional } = parseFlags("pull", args, { quiet: bool("q") });
  if (positional.length !== 1) throw fail("fake-podman: pull takes exactly one image");
  const ref = positional[0];
  let found = findImage(state, ref);
  if (found === undefined) {
    if (process.env.FAKE_PODMAN_REGISTRY_UNREACHABLE) throw registryUnreachable(ref, "");
    const onBuild = (process.env.FAKE_PODMAN_ONBUILD_IMAGES ?? "").split(",").includes(ref);
    found = { id: randomId(), names: [normalizeImage(ref)], created: now(), labels: {}, config: {} };
    if (onBuild) found.config.OnBuild = ["RUN echo triggered"];
    state.images.push(found);
  }
  return { stdout: `${found.id}\n` };
}

function checkHardening(flags, globals) {
  const problems = [];
  if (globals.runtime === undefined) problems.push("no --runtime");
  if (!flags.detach) problems.push("not detached");
  if (!(flags["cap-drop"] ?? []).includes("all")) problems.push("missing --cap-drop=all");
  if (!(flags["security-opt"] ?? []).includes("no-new-privileges")) problems.push("missing no-new-privileges");
  if (!flags["read-only"]) problems.push("missing --read-only");
  if (!(flags.tmpfs ?? []).some((mount) => mount.startsWith("/tmp:"))) problems.push("missing /tmp tmpfs");
  if (flags.memory === undefined || flags.memory !== flags["memory-swap"]) problems.push("memory-swap != memory");
  if (flags.cpus === undefined) problems.push("missing --cpus");
  if (!(Number(flags["pids-limit"]) >= MIN_PIDS_LIMIT)) problems.push("missing or small --pids-limit");
  if (!flags.init) problems.push("missing --init");
  if (flags.network === undefined || flags.network === "host") problems.push("no per-team network");
  if (flags.privileged) problems.push("--privileged");
  if (flags.volume !== undefined || flags.mount !== undefined) problems.push("volume mounts");
  if (problems.length > 0) throw fail(`fake-podman: refusing unhardened run: ${problems.join(", ")}`);
}

function run(state, args, globals) {
  const { flags, positional } = parseFlags(
    "run",
    args,
    {
      detach: bool("d"),
      name: value(),
      pull: value(),
      "cap-drop": multi(),
      "security-opt": multi(),
      "read-only": bool(),
      "read-only-tmpfs": bool(),
      tmpfs: multi(),
      "image-volume": value(),
      memory: value("m"),
      "memory-swap": value(),
      cpus: value(),
      "pids-limit": value(),
      init: bool(),
      "http-proxy": bool(),
      network: value(),
      "log-opt": multi(),
      label: multi("l"),
      user: value("u"),
      env: multi("e"),
      publish: multi("p"),
      rm: bool(),
      privileged: bool(),
      volume: multi("v"),
      mount: multi(),
    },
    { interspersed: false },
  );
  checkHardening(flags, globals);
  const [imageRef, ...command] = positional;
  if (imageRef === undefined) throw fail("requires at least 1 arg(s), only received 0");
  const image = findImage(state, imageRef);
  if (image === undefined) {
    if (flags.pull === "never") throw fail(`${normalizeImage(imageRef)}: image not known`);
    throw fail(`initializing source docker://${imageRef}: pinging container registry: no registry reachable`);
  }
  if (!state.networks.some((network) => network.name === flags.network)) {
    throw fail(`unable to find network with name or ID ${flags.network}: network not found`);
  }
  const name = flags.name ?? `fake_${randomBytes(4).toString("hex")}`;
  const clash = state.containers.find((c) => c.name === name);
  if (clash !== undefined) {
    throw fail(
      `creating container storage: the container name "${name}" is already in use by ${clash.id}. You have to remove that container to be able to reuse that name: that name is already in use`,
    );
  }
  const env = {};
  for (const entry of flags.env ?? []) {
    const index = entry.indexOf("=");
    if (index !== -1) env[entry.slice(0, index)] = entry.slice(index + 1);
    else if (process.env[entry] !== undefined) env[entry] = process.env[entry];
  }
  const usedPorts = new Set(state.containers.flatMap((c) => c.ports.map((p) => p.host_port)));
  const offeredPorts = (process.env.FAKE_PODMAN_HOST_PORTS ?? "").split(",").filter(Boolean).map(Number);
  const ports = (flags.publish ?? []).map((spec) => {
    const match = /^(?:([0-9.]+):)?([0-9]*):([0-9]+)(?:\/(tcp|udp))?$/.exec(spec);
    if (match === null) throw fail(`invalid publish spec ${spec}`);
    let hostPort = Number(match[2]) || (offeredPorts.find((port) => !usedPorts.has(port)) ?? 0);
    // Below Linux's ephemeral range (32768-60999): a port there may be the local end of any connection on the host,
    // and a serve-http server that cannot bind exits, so the container would never answer its health check.
    while (!hostPort || usedPorts.has(hostPort)) hostPort = 10_000 + Math.floor(Math.random() * 20_000);
    usedPorts.add(hostPort);
    return {
      host_ip: match[1] ?? "",
      container_port: Number(match[3]),
      host_port: hostPort,
      range: 1,
      protocol: match[4] ?? "tcp",
    };
  });
  const exitMatch = process.env.FAKE_PODMAN_RUN_EXIT_MATCH;
  const exitCode =
    exitMatch === undefined || new RegExp(exitMatch).test(name) ? process.env.FAKE_PODMAN_RUN_EXIT_CODE : undefined;
  const started = now();
  const container = {
    id: randomId(),
    name,
    image: image.names[0] ?? image.id,
    imageId: image.id,
    created: started,
    startedAt: started,
    finishedAt: exitCode === undefined ? "0001-01-01T00:00:00Z" : now(),
    state: exitCode === undefined ? "running" : "exited",
    exitCode: exitCode === undefined ? 0 : Number(exitCode),
    labels: parseKeyValues(flags.label),
    env,
    command,
    network: flags.network,
    ports,
    runtime: globals.runtime,
    runtimeFlags: globals.runtimeFlags,
    memory: parseBytes(flags.memory),
    pidsLimit: Number(flags["pids-limit"]),
    logs: [
      { time: started, stream: "stdout", line: `fake-podman: started ${command.join(" ") || image.names[0]}` },
      { time: started, stream: "stderr", line: `fake-podman: listening on ${ports.length} published port(s)` },
    ],
  };
  // What a one-off command printed (FAKE_PODMAN_RUN_OUTPUT), on stdout, for the containers the exit switches match.
  if (
    process.env.FAKE_PODMAN_RUN_OUTPUT !== undefined &&
    (exitMatch === undefined || new RegExp(exitMatch).test(name))
  ) {
    for (const line of process.env.FAKE_PODMAN_RUN_OUTPUT.split("\n")) {
      container.logs.push({ time: now(), stream: "stdout", line });
    }
  }
  state.containers.push(container);
  if (container.state === "running" && existsSync(join(stateDir, "serve-http"))) {
    for (const port of ports) serveHttp(container, port.host_port);
  }
  return { stdout: `${container.id}\n` };
}

// The stand-in for the app inside a container: answers every request with 200 and exits once its container is no
// longer running in the state file (stopped, removed, or the whole state directory gone).
const SERVER = `
const { createServer } = require("node:http");
const { readFileSync } = require("node:fs");
const [stateFile, id, port, name] = process.argv.slice(1);
const server = createServer((req, res) => {
  res.writeHead(200, { "content-type": "text/plain" });
  res.end("ok from " + name + "\\n");
});
server.on("error", () => process.exit(0));
server.listen(Number(port), "127.0.0.1");
const started = Date.now();
let seen = false;
setInterval(() => {
  let running = false;
  try {
    const state = JSON.parse(readFileSync(stateFile, "utf8"));
    running = state.containers.some((c) => c.id === id && c.state === "running");
  } catch {}
  // The state is saved just after \`run\` answers: absent at first is not yet gone.
  if (running) seen = true;
  else if (seen || Date.now() - started > 10000) process.exit(0);
}, 500);
`;

function serveHttp(container, port) {
  const child = spawn(
    process.execPath,
    ["-e", SERVER, join(stateDir, "state.json"), container.id, String(port), container.name],
    {
      detached: true,
      stdio: "ignore",
    },
  );
  child.unref();
}

function psEntry(c) {
  const running = c.state === "running";
  return {
    AutoRemove: false,
    Command: c.command.length > 0 ? c.command : null,
    Created: c.created,
    CreatedAt: "About a minute ago",
    Exited: c.state === "exited",
    ExitedAt: c.state === "exited" ? Math.floor(Date.parse(c.finishedAt) / 1000) : -62135596800,
    ExitCode: c.exitCode,
    Id: c.id,
    Image: c.image,
    ImageID: c.imageId,
    IsInfra: false,
    Labels: Object.keys(c.labels).length > 0 ? c.labels : null,
    Mounts: [],
    Names: [c.name],
    Namespaces: {},
    Networks: [c.network],
    Pid: running ? 4242 : 0,
    Pod: "",
    PodName: "",
    Ports: c.ports.length > 0 ? c.ports : null,
    StartedAt: Math.floor(Date.parse(c.startedAt) / 1000),
    State: c.state,
    Status: running ? "Up About a minute" : `Exited (${c.exitCode}) About a minute ago`,
  };
}

function ps(state, args) {
  const { flags, positional } = parseFlags("ps", args, {
    all: bool("a"),
    format: value(),
    filter: multi("f"),
    "no-trunc": bool(),
  });
  if (positional.length > 0) throw fail(`unknown command "${positional[0]}" for "podman ps"`);
  requireJsonFormat(flags);
  let containers = state.containers.filter((c) => flags.all || c.state === "running");
  for (const filter of flags.filter ?? []) {
    const [key, ...rest] = filter.split("=");
    const wanted = rest.join("=");
    if (key === "label") {
      const index = wanted.indexOf("=");
      const labelKey = index === -1 ? wanted : wanted.slice(0, index);
      containers = containers.filter((c) =>
        index === -1 ? labelKey in c.labels : c.labels[labelKey] === wanted.slice(index + 1),
      );
    } else if (key === "name") {
      containers = containers.filter((c) => c.name.includes(wanted));
    } else if (key === "status") {
      containers = containers.filter((c) => c.state === wanted);
    } else {
      throw fail(`${key} is an invalid filter`);
    }
  }
  if (flags.format === undefined) {
    return {
      stdout: `CONTAINER ID  IMAGE  NAMES\n${containers.map((c) => `${c.id.slice(0, 12)}  ${c.image}  ${c.name}\n`).join("")}`,
    };
  }
  return { stdout: `${JSON.stringify(containers.map(psEntry), null, 4)}\n` };
}

function containerInspectEntry(c) {
  const running = c.state === "running";
  const ports = {};
  for (const port of c.ports) {
    ports[`${port.container_port}/${port.protocol}`] = [{ HostIp: port.host_ip, HostPort: String(port.host_port) }];
  }
  return {
    Id: c.id,
    Created: c.created,
    Path: c.command[0] ?? "",
    Args: c.command.slice(1),
    State: {
      OciVersion: "1.0.2-dev",
      Status: c.state,
      Running: running,
      Paused: false,
      Restarting: false,
      OOMKilled: false,
      Dead: false,
      Pid: running ? 4242 : 0,
      ExitCode: c.exitCode,
      Error: "",
      StartedAt: c.startedAt,
      FinishedAt: c.finishedAt,
    },
    Image: c.imageId,
    ImageName: c.image,
    Name: c.name,
    OCIRuntime: c.runtime,
    Config: {
      Hostname: c.id.slice(0, 12),
      Env: Object.entries(c.env).map(([key, val]) => `${key}=${val}`),
      Cmd: c.command,
      Labels: c.labels,
    },
    HostConfig: { NetworkMode: "bridge", Memory: c.memory, PidsLimit: c.pidsLimit, Runtime: "oci" },
    NetworkSettings: { Ports: ports, Networks: { [c.network]: {} } },
  };
}

function imageInspectEntry(image) {
  return {
    Id: image.id,
    Digest: `sha256:${image.id}`,
    RepoTags: image.names,
    RepoDigests: [],
    Created: image.created,
    Size: image.size ?? 0,
    Labels: Object.keys(image.labels).length > 0 ? image.labels : null,
    Architecture: "amd64",
    Os: "linux",
    Config: { ...image.config, Labels: image.labels },
  };
}

function inspect(state, args, kind) {
  const { flags, positional } = parseFlags(`${kind ?? ""} inspect`.trim(), args, {
    format: value("f"),
    type: value("t"),
    size: bool("s"),
  });
  requireJsonFormat(flags);
  if (positional.length === 0) throw fail("must provide at least one name or ID");
  const type = kind ?? flags.type ?? "all";
  const found = [];
  for (const ref of positional) {
    const container = type === "image" ? undefined : findContainer(state, ref);
    if (container !== undefined) {
      found.push(containerInspectEntry(container));
      continue;
    }
    const image = type === "container" ? undefined : findImage(state, ref);
    if (image !== undefined) {
      found.push(imageInspectEntry(image));
      continue;
    }
    const stdout = `${JSON.stringify(found, null, 4)}\n`;
    if (type === "container") throw fail(`no such container ${ref}`, 125, stdout);
    if (type === "image") throw fail(`${ref}: image not known`, 125, stdout);
    throw fail(`no such object: "${ref}"`, 125, stdout);
  }
  return { stdout: `${JSON.stringify(found, null, 4)}\n` };
}

function stop(state, args) {
  const { flags, positional } = parseFlags("stop", args, { ignore: bool("i"), time: value("t"), all: bool("a") });
  let stdout = "";
  for (const ref of positional) {
    const container = findContainer(state, ref);
    if (container === undefined) {
      if (flags.ignore) continue;
      throw noSuchContainer(ref, 125);
    }
    if (container.state === "running") {
      container.state = "exited";
      container.exitCode = 0;
      container.finishedAt = now();
      container.logs.push({ time: now(), stream: "stdout", line: "fake-podman: stopped" });
    }
    stdout += `${ref}\n`;
  }
  return { stdout };
}

function start(state, args) {
  const { positional } = parseFlags("start", args, {});
  let stdout = "";
  for (const ref of positional) {
    const container = findContainer(state, ref);
    if (container === undefined) throw noSuchContainer(ref, 125);
    if (container.state !== "running") {
      // The same container again: its ports, env and command are kept, as podman keeps them.
      container.state = "running";
      container.startedAt = now();
      container.finishedAt = "0001-01-01T00:00:00Z";
      container.logs.push({ time: now(), stream: "stdout", line: "fake-podman: started again" });
    }
    stdout += `${ref}\n`;
  }
  return { stdout };
}

// FAKE_PODMAN_EXIT_ON: the crash of matching running containers; true when one exited.
function exitOn(state) {
  const spec = process.env.FAKE_PODMAN_EXIT_ON;
  if (!spec) return false;
  const colon = spec.lastIndexOf(":");
  const pattern = new RegExp(spec.slice(0, colon));
  const code = Number(spec.slice(colon + 1));
  let changed = false;
  for (const container of state.containers) {
    if (container.state !== "running" || !pattern.test(container.name)) continue;
    container.state = "exited";
    container.exitCode = code;
    container.finishedAt = now();
    container.logs.push({ time: now(), stream: "stderr", line: `fake-podman: crashed with exit code ${code}` });
    changed = true;
  }
  return changed;
}

function rm(state, args) {
  const { flags, positional } = parseFlags("rm", args, {
    force: bool("f"),
    ignore: bool("i"),
    time: value("t"),
    volumes: bool("v"),
  });
  let stdout = "";
  for (const ref of positional) {
    const container = findContainer(state, ref);
    if (container === undefined) {
      if (flags.ignore) continue;
      throw noSuchContainer(ref, 1);
    }
    if (container.state === "running" && !flags.force) {
      throw fail(
        `cannot remove container ${container.id} as it is running - running or paused containers cannot be removed without force: container state improper`,
        2,
      );
    }
    state.containers = state.containers.filter((c) => c !== container);
    stdout += `${ref}\n`;
  }
  return { stdout };
}

function logs(state, args) {
  const { flags, positional } = parseFlags("logs", args, {
    tail: value(),
    since: value(),
    timestamps: bool("t"),
    follow: bool("f"),
  });
  if (flags.follow) throw fail("fake-podman: --follow is not supported");
  if (positional.length !== 1) throw fail("fake-podman: logs takes exactly one container");
  const container = findContainer(state, positional[0]);
  if (container === undefined) throw noSuchContainer(positional[0]);
  let lines = container.logs;
  if (flags.since !== undefined) {
    const since = Date.parse(flags.since);
    if (Number.isNaN(since)) throw fail(`parsing time "${flags.since}": invalid time`);
    lines = lines.filter((entry) => Date.parse(entry.time) >= since);
  }
  const tail = Number(flags.tail ?? -1);
  if (tail >= 0) lines = lines.slice(Math.max(0, lines.length - tail));
  let stdout = "";
  let stderr = "";
  for (const entry of lines) {
    const text = `${flags.timestamps ? `${entry.time} ` : ""}${entry.line}\n`;
    if (entry.stream === "stderr") stderr += text;
    else stdout += text;
  }
  return { stdout, stderr };
}

// Figures per container name from the JSON file FAKE_PODMAN_STATS names (read at each call, so a test can change
// them between samples): { "<name>": { "cpuPercent", "memory", "memoryLimit", "netIn", "netOut", "blockIn",
// "blockOut", "pids" } }, every field optional. Names in the file that the fake does not run are reported too, as
// running containers, so the bench can stand for 50 containers without starting them.
function statsFigures() {
  const file = process.env.FAKE_PODMAN_STATS;
  if (!file) return {};
  return JSON.parse(readFileSync(file, "utf8"));
}

function statsEntry(id, name, figures, fallbackLimit) {
  const usage = figures.memory ?? 56_300_000;
  const limit = figures.memoryLimit ?? fallbackLimit;
  return {
    id: id.slice(0, 12),
    name,
    cpu_time: "1.52s",
    cpu_percent: `${(figures.cpuPercent ?? 0.5).toFixed(2)}%`,
    avg_cpu: "0.25%",
    mem_usage: `${humanSize(usage)} / ${humanSize(limit)}`,
    mem_percent: `${((usage / limit) * 100).toFixed(2)}%`,
    net_io: `${humanSize(figures.netIn ?? 1200)} / ${humanSize(figures.netOut ?? 3400)}`,
    block_io: `${humanSize(figures.blockIn ?? 0)} / ${humanSize(figures.blockOut ?? 0)}`,
    pids: String(figures.pids ?? 46),
  };
}

function stats(state, args) {
  const { flags, positional } = parseFlags("stats", args, {
    "no-stream": bool(),
    "no-reset": bool(),
    format: value(),
    all: bool("a"),
  });
  if (!flags["no-stream"]) throw fail("fake-podman: only --no-stream is supported");
  requireJsonFormat(flags);
  const figures = statsFigures();
  const entries = [];
  if (positional.length === 0) {
    // Like podman: every running container (the metrics sampler's one call per sample).
    const seen = new Set();
    for (const c of state.containers) {
      if (c.state !== "running") continue;
      seen.add(c.name);
      entries.push(statsEntry(c.id, c.name, figures[c.name] ?? {}, c.memory ?? 2 * 1024 ** 3));
    }
    for (const [name, entry] of Object.entries(figures)) {
      if (seen.has(name)) continue;
      const id = createHash("sha256").update(name).digest("hex");
      entries.push(statsEntry(id, name, entry, 2 * 1024 ** 3));
    }
    return { stdout: `${JSON.stringify(entries, null, 1)}\n` };
  }
  for (const ref of positional) {
    const c = findContainer(state, ref);
    if (c === undefined) {
      throw fail(
        `unable to get list of containers: unable to look up container ${ref}: no container with name or ID "${ref}" found: no such container`,
      );
    }
    if (c.state !== "running") throw fail(`container ${c.id} is not running: container state improper`);
    entries.push(statsEntry(c.id, c.name, figures[c.name] ?? {}, c.memory ?? 2 * 1024 ** 3));
  }
  return { stdout: `${JSON.stringify(entries, null, 4)}\n` };
}

function wait(state, args) {
  const { positional } = parseFlags("wait", args, { condition: multi() });
  let stdout = "";
  for (const ref of positional) {
    const container = findContainer(state, ref);
    if (container === undefined) throw noSuchContainer(ref);
    // A running container would block podman wait until it exits; the fake has nothing that would ever exit.
    if (container.state === "running") return { hang: true };
    stdout += `${container.exitCode}\n`;
  }
  return { stdout };
}

function image(state, sub, args) {
  if (sub === "exists") {
    const { positional } = parseFlags("image exists", args, {});
    if (positional.length !== 1) throw fail(`accepts 1 arg(s), received ${positional.length}`);
    return { code: findImage(state, positional[0]) === undefined ? 1 : 0 };
  }
  if (sub === "inspect") return inspect(state, args, "image");
  if (sub === "rm") {
    const { flags, positional } = parseFlags("image rm", args, { force: bool("f"), ignore: bool("i"), all: bool("a") });
    let stdout = "";
    for (const ref of positional) {
      const found = findImage(state, ref);
      if (found === undefined) {
        if (flags.ignore) continue;
        throw fail(`${ref}: image not known`, 1);
      }
      const users = state.containers.filter((c) => c.imageId === found.id);
      if (users.length > 0) {
        if (!flags.force) {
          throw fail(
            `image used by ${users[0].id}: image is in use by a container: consider listing external containers and force-removing image`,
            2,
          );
        }
        state.containers = state.containers.filter((c) => c.imageId !== found.id);
      }
      state.images = state.images.filter((i) => i !== found);
      stdout += `${found.names.map((name) => `Untagged: ${name}\n`).join("")}Deleted: ${found.id}\n`;
    }
    return { stdout };
  }
  throw fail(`unrecognized command \`podman image ${sub ?? ""}\``);
}

function network(state, sub, args) {
  if (sub === "exists") {
    const { positional } = parseFlags("network exists", args, {});
    if (positional.length !== 1) throw fail(`accepts 1 arg(s), received ${positional.length}`);
    return { code: state.networks.some((n) => n.name === positional[0]) ? 0 : 1 };
  }
  if (sub === "create") {
    const { flags, positional } = parseFlags("network create", args, {
      internal: bool(),
      subnet: multi(),
      label: multi(),
      driver: value("d"),
      "disable-dns": bool(),
      ignore: bool(),
    });
    if (positional.length !== 1) throw fail("fake-podman: network create takes exactly one name");
    const name = positional[0];
    if (state.networks.some((n) => n.name === name)) {
      if (flags.ignore) return { stdout: `${name}\n` };
      throw fail(`network name ${name} already used: network already exists`);
    }
    state.networks.push({
      name,
      id: randomId(),
      internal: flags.internal ?? false,
      subnets: flags.subnet ?? [],
      labels: parseKeyValues(flags.label),
    });
    return { stdout: `${name}\n` };
  }
  if (sub === "rm") {
    const { flags, positional } = parseFlags("network rm", args, { force: bool("f"), time: value("t") });
    let stdout = "";
    for (const name of positional) {
      if (!state.networks.some((n) => n.name === name)) {
        throw fail(`unable to find network with name or ID ${name}: network not found`, 1);
      }
      const attached = state.containers.filter((c) => c.network === name);
      if (attached.length > 0 && !flags.force) {
        throw fail(
          `"${name}" has associated containers with it. Use -f to forcibly delete containers and pods: network is being used`,
          2,
        );
      }
      state.containers = state.containers.filter((c) => c.network !== name);
      state.networks = state.networks.filter((n) => n.name !== name);
      stdout += `${name}\n`;
    }
    return { stdout };
  }
  throw fail(`unrecognized command \`podman network ${sub ?? ""}\``);
}

function version(args) {
  const { flags } = parseFlags("version", args, { format: value("f") });
  requireJsonFormat(flags);
  const client = {
    APIVersion: VERSION,
    Version: VERSION,
    GoVersion: "go1.19.8",
    GitCommit: "",
    BuiltTime: "Thu Jan  1 00:00:00 1970",
    Built: 0,
    OsArch: "linux/amd64",
    Os: "linux",
  };
  if (flags.format === undefined) return { stdout: `Client:       Podman Engine\nVersion:      ${VERSION}\n` };
  return { stdout: `${JSON.stringify({ Client: client }, null, 4)}\n` };
}

function info(args, globals) {
  const { flags } = parseFlags("info", args, { format: value("f") });
  requireJsonFormat(flags);
  const runtime = globals.runtime ?? "runc";
  const data = {
    host: {
      arch: "amd64",
      os: "linux",
      kernel: "6.1.0-fake",
      cgroupVersion: "v1",
      cgroupManager: "cgroupfs",
      ociRuntime: { name: runtime, package: "fake", path: `/usr/bin/${runtime}`, version: `${runtime} fake` },
      security: { rootless: false, seccompEnabled: true },
    },
    store: { graphDriverName: "overlay", graphRoot: join(stateDir, "storage") },
    version: { APIVersion: VERSION, Version: VERSION, OsArch: "linux/amd64" },
  };
  return { stdout: `${JSON.stringify(data, null, 4)}\n` };
}

// `system df --format json`: podman's rows (Type, Total, Active, Size, RawSize, Reclaimable, RawReclaimable, ...),
// counted from the state; an image's bytes are its `size` (0 unless a test wrote one into state.json).
function systemDf(state, sub, args) {
  if (sub !== "df") throw fail(`unrecognized command \`podman system ${sub ?? ""}\``);
  const { flags } = parseFlags("system df", args, { format: value("f") });
  requireJsonFormat(flags);
  const used = new Set(state.containers.map((c) => findImage(state, c.image)?.id).filter((id) => id !== undefined));
  const imageBytes = state.images.reduce((sum, image) => sum + (image.size ?? 0), 0);
  const unusedBytes = state.images.filter((i) => !used.has(i.id)).reduce((sum, i) => sum + (i.size ?? 0), 0);
  const row = (type, total, active, bytes, reclaimable) => ({
    Type: type,
    Total: total,
    Active: active,
    Size: humanSize(bytes),
    RawSize: bytes,
    Reclaimable: `${humanSize(reclaimable)} (0%)`,
    RawReclaimable: reclaimable,
    TotalCount: total,
  });
  const running = state.containers.filter((c) => c.state === "running").length;
  const rows = [
    row("Images", state.images.length, used.size, imageBytes, unusedBytes),
    row("Containers", state.containers.length, running, 0, 0),
    row("Local Volumes", 0, 0, 0, 0),
  ];
  return { stdout: `${JSON.stringify(rows, null, 4)}\n` };
}

// ---------------------------------------------------------------------------------------------------------------
// Entry point

function parseGlobals(argv) {
  const globals = { runtime: undefined, runtimeFlags: [] };
  let i = 0;
  while (i < argv.length && argv[i].startsWith("-")) {
    const arg = argv[i++];
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg : arg.slice(0, eq);
    const read = () => (eq === -1 ? argv[i++] : arg.slice(eq + 1));
    if (name === "--runtime") globals.runtime = read();
    else if (name === "--runtime-flag") globals.runtimeFlags.push(read());
    else if (name === "--version" || name === "-v") return { globals, rest: ["--version"] };
    else throw fail(`unknown flag: ${name}\nSee 'podman --help'`);
  }
  return { globals, rest: argv.slice(i) };
}

function dispatch(argv) {
  const { globals, rest } = parseGlobals(argv);
  const known = process.env.FAKE_PODMAN_RUNTIMES;
  if (known !== undefined && globals.runtime !== undefined && !known.split(",").includes(globals.runtime)) {
    throw fail(`default OCI runtime "${globals.runtime}" not found: invalid argument`);
  }
  let [command, ...args] = rest;
  if (command === "--version") return { key: "VERSION", run: () => ({ stdout: `podman version ${VERSION}\n` }) };
  if (command === "rmi") [command, args] = ["image", ["rm", ...args]];
  if (command === "container" && ["inspect", "rm", "stop", "logs", "ps", "list", "ls"].includes(args[0])) {
    if (args[0] === "inspect") return { key: "CONTAINER_INSPECT", run: (s) => inspect(s, args.slice(1), "container") };
    [command, ...args] = args[0] === "list" || args[0] === "ls" ? ["ps", ...args.slice(1)] : args;
  }
  switch (command) {
    case "build":
      return { key: "BUILD", run: (s) => build(s, args, globals) };
    case "run":
      return { key: "RUN", run: (s) => run(s, args, globals) };
    case "pull":
      return { key: "PULL", run: (s) => pull(s, args) };
    case "ps":
      return { key: "PS", run: (s) => ps(s, args) };
    case "inspect":
      return { key: "INSPECT", run: (s) => inspect(s, args, undefined) };
    case "stop":
      return { key: "STOP", run: (s) => stop(s, args) };
    case "rm":
      return { key: "RM", run: (s) => rm(s, args) };
    case "start":
      return { key: "START", run: (s) => start(s, args) };
    case "logs":
      return { key: "LOGS", run: (s) => logs(s, args) };
    case "stats":
      return { key: "STATS", run: (s) => stats(s, args) };
    case "wait":
      return { key: "WAIT", run: (s) => wait(s, args) };
    case "image":
      return { key: `IMAGE_${(args[0] ?? "").toUpperCase()}`, run: (s) => image(s, args[0], args.slice(1)) };
    case "network":
      return { key: `NETWORK_${(args[0] ?? "").toUpperCase()}`, run: (s) => network(s, args[0], args.slice(1)) };
    case "version":
      return { key: "VERSION", run: () => version(args) };
    case "info":
      return { key: "INFO", run: () => info(args, globals) };
    case "system":
      return { key: `SYSTEM_${(args[0] ?? "").toUpperCase()}`, run: (s) => systemDf(s, args[0], args.slice(1)) };
    default:
      throw fail(`unrecognized command \`podman ${command ?? ""}\`\nTry 'podman --help' for more information`);
  }
}

const MUTATING = new Set(["BUILD", "PULL", "RUN", "START", "STOP", "RM", "IMAGE_RM", "NETWORK_CREATE", "NETWORK_RM"]);

function hang() {
  // Keeps the process alive until it is killed, like a podman stuck on a lock.
  setInterval(() => {}, 60_000);
}

function main(argv) {
  if (!stateDir) throw fail("fake-podman: FAKE_PODMAN_STATE is not set");
  mkdirSync(stateDir, { recursive: true });
  appendFileSync(join(stateDir, "calls.jsonl"), `${JSON.stringify({ argv, pid: process.pid })}\n`);
  const { key, run: execute } = dispatch(argv);
  if (process.env[`FAKE_PODMAN_HANG_${key}`]) return { hang: true };
  if (process.env.FAKE_PODMAN_HANG_ON && withLock(() => nthCall("HANG_ON", key))) {
    writeFileSync(join(stateDir, "hung"), `${key} pid ${process.pid}\n`);
    return { hang: true };
  }
  if (process.env.FAKE_PODMAN_KILL_DURING && withLock(() => nthCall("KILL_DURING", key))) killParent(`during ${key}`);
  const failCode = process.env[`FAKE_PODMAN_FAIL_${key}`];
  if (failCode) {
    const code = /^[0-9]{1,3}$/.test(failCode) && Number(failCode) > 0 ? Number(failCode) : 125;
    throw fail(`fake-podman: injected failure (FAKE_PODMAN_FAIL_${key})`, code);
  }
  return withLock(() => {
    const state = loadState();
    const crashed = exitOn(state);
    const result = execute(state);
    if (MUTATING.has(key) || crashed) saveState(state);
    killOn(key);
    return result;
  });
}

// The kill switch (FAKE_PODMAN_KILL_ON): runs under the lock, so concurrent invocations count exactly.
function killOn(key) {
  const [wanted, nth] = (process.env.FAKE_PODMAN_KILL_ON ?? "").split(":");
  if (wanted !== key || existsSync(join(stateDir, "killed"))) return;
  const counter = join(stateDir, `kill-on-${key}.count`);
  const count = (existsSync(counter) ? Number(readFileSync(counter, "utf8")) : 0) + 1;
  writeFileSync(counter, String(count));
  if (count !== Number(nth)) return;
  writeFileSync(join(stateDir, "killed"), `${key}:${count} pid ${process.ppid}\n`);
  process.kill(process.ppid, "SIGKILL");
}

// FAKE_PODMAN_<switch>=<KEY>:<n>: whether this is the n-th <KEY> command, counted in the state directory (under the
// lock) and true once only (a kill-on-/hang-on- marker file remembers it fired).
function nthCall(name, key) {
  const [wanted, nth] = (process.env[`FAKE_PODMAN_${name}`] ?? "").split(":");
  const tag = name.toLowerCase().replaceAll("_", "-");
  if (wanted !== key || existsSync(join(stateDir, `${tag}-fired`))) return false;
  const counter = join(stateDir, `${tag}-${key}.count`);
  const count = (existsSync(counter) ? Number(readFileSync(counter, "utf8")) : 0) + 1;
  writeFileSync(counter, String(count));
  if (count !== Number(nth)) return false;
  writeFileSync(join(stateDir, `${tag}-fired`), "");
  return true;
}

function killParent(what) {
  writeFileSync(join(stateDir, "killed"), `${what} pid ${process.ppid}\n`);
  process.kill(process.ppid, "SIGKILL");
  // Cut off: what the command would have done never happens.
  process.exit(137);
}

let outcome;
try {
  outcome = main(process.argv.slice(2));
} catch (err) {
  if (!(err instanceof Exit)) {
    outcome = { code: 125, stderr: `Error: fake-podman crashed: ${err instanceof Error ? err.stack : String(err)}\n` };
  } else {
    outcome = { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}
if (outcome.hang) {
  hang();
} else {
  if (outcome.stdout) process.stdout.write(outcome.stdout);
  if (outcome.stderr) process.stderr.write(outcome.stderr);
  // exitCode rather than process.exit(): pending writes to a pipe are flushed before the process ends.
  process.exitCode = outcome.code ?? 0;
}
