// The layers of Tussilago and who may import whom, checked by `npm run lint:deps` (part of `npm test`).
//
//   app/, components/   the Next.js portal and the REST API's route handlers: edges. They call lib/domain (and
//                       lib/api, lib/auth); they never load worker code (jobs/tasks, lib/engine).
//   lib/domain/         what a request may do: authorize, validate, write intent rows and enqueue jobs in the same
//                       transaction. No infrastructure I/O: no adapters, no engine, no source fetchers, no processes.
//   jobs/catalog.ts     the job catalog: every task's name, payload schema, attempts and queue. A leaf (zod only),
//                       so the domain can enqueue (jobs/enqueue.ts) without loading any task's code.
//   jobs/tasks/, jobs/runner.ts, jobs/worker.ts, jobs/crontab.ts
//                       the worker: each task joins its catalog entry to its handler; only the runner loads the
//                       task registry (jobs/tasks/index.ts).
//   lib/engine/         the worker-side engine (build, release, lifecycle, reconcile, routing, app logs), driven by
//                       jobs/ and scripts/ only.
//   lib/infra/, lib/build/
//                       adapters (podman, Caddy, tenant PostgreSQL/Redis, exec) and build planning/sources: pure with
//                       respect to the app. They take their configuration as arguments and import nothing of it.
//   test/               helpers and fakes for tests; production code never imports them.
//   cli/, bin/          the `tussilago` command-line client: a client of the REST API over HTTP, like any other.
//                       It imports nothing of the platform (no domain, engine, database or env), only npm packages.
//
// There are no exceptions for cycles: a cycle once left a constant uninitialised at load time.

const APP_CODE = "^(app|components|lib|jobs|scripts|test|e2e|cli|bin)/|^proxy\\.ts$";
/** The pure face of an adapter split into a folder: its resource names and credentials, and its types. */
const ADAPTER_PURE_FACE = "^lib/infra/[^/]+/(names|types)\\.ts$";
/** Tests, their helpers and fakes (test/), and the end-to-end suite (e2e/): they may import anything. */
const TESTS = "^(test|e2e)/|\\.(test|spec)\\.tsx?$";

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "Import cycles load modules half-initialised and tangle the layers; break them by moving code down.",
      from: { path: APP_CODE },
      // `import type` is erased before anything loads, so it cannot half-initialise a module: the endpoint
      // examples (lib/api/endpoints/examples.ts) are typed from the schemas of the files that use them.
      to: { circular: true, viaOnly: { dependencyTypesNot: ["type-only"] } },
    },
    {
      name: "job-catalog-is-a-leaf",
      severity: "error",
      comment:
        "jobs/catalog.ts is what the web side loads to enqueue: it imports zod and nothing of the app, so no task " +
        "or engine code can reach the web bundle through it.",
      from: { path: "^jobs/catalog\\.ts$" },
      to: { pathNot: "(^|/)node_modules/zod/" },
    },
    {
      name: "web-side-never-loads-tasks",
      severity: "error",
      comment:
        "Enqueueing reads the catalog, never the task registry or a task: only the runner (jobs/runner.ts, " +
        "jobs/worker.ts), tests and benchmarks load task code.",
      from: { path: "^(lib|app|components|jobs/(enqueue|catalog|queues|build-slots|define))", pathNot: TESTS },
      to: { path: "^jobs/tasks/" },
    },
    {
      name: "adapters-import-nothing-of-the-app",
      severity: "error",
      comment:
        "lib/infra and lib/build are adapters: they take configuration as arguments and know nothing of the domain, " +
        "the database, the environment, the engine, jobs or the edges.",
      from: { path: "^lib/(infra|build)/", pathNot: TESTS },
      to: { path: "^(app|components|jobs|scripts|e2e)/|^lib/", pathNot: "^lib/(infra|build)/" },
    },
    {
      name: "domain-does-no-infrastructure-io",
      severity: "error",
      comment:
        "lib/domain decides and records intent; the worker does the I/O. The pure rules it shares with the adapters " +
        "live in pure modules it may import: an adapter's names.ts and types.ts (resource names, passwords, " +
        "connection strings), the git URL policy (lib/build/source-git/url-policy.ts) and the upload-time tarball " +
        "check (lib/build/source-tarball/check.ts: a stream parser, no I/O).",
      from: { path: "^lib/domain/", pathNot: TESTS },
      to: {
        path: ["^lib/(infra|engine)/", "^lib/build/source-(git|tarball)", "^(node:)?child_process$"],
        pathNot: [ADAPTER_PURE_FACE, "^lib/build/source-git/url-policy\\.ts$", "^lib/build/source-tarball/check\\.ts$"],
      },
    },
    {
      name: "adapter-pure-face-stays-pure",
      severity: "error",
      comment:
        "An adapter's names.ts and types.ts are what the domain may import from lib/infra: they compute and do no " +
        "I/O, so they import no other part of the adapter (sessions, provisioning, processes) and no I/O module.",
      from: { path: ADAPTER_PURE_FACE },
      to: {
        path: [
          "^lib/",
          "^(node:)?(child_process|dns|dns/promises|http|https|http2|net/promises|fs|fs/promises|dgram)$",
        ],
        pathNot: ["^lib/infra/errors\\.ts$", "^lib/infra/[^/]+/(names|types|errors)\\.ts$"],
      },
    },
    {
      name: "only-the-worker-drives-the-engine",
      severity: "error",
      comment: "lib/engine runs in the worker process: jobs/ and scripts/ (and the engine itself, and tests) use it.",
      from: { path: "^(app|components|lib)/", pathNot: ["^lib/engine/", TESTS] },
      to: { path: "^lib/engine/" },
    },
    {
      name: "edges-never-load-worker-code",
      severity: "error",
      comment: "The portal and the API enqueue; they never import a task or the engine (it would ship in the bundle).",
      from: { path: "^(app|components)/", pathNot: TESTS },
      to: { path: "^(jobs/tasks|lib/engine)/" },
    },
    {
      name: "web-bundle-never-reaches-worker-code",
      severity: "error",
      comment:
        "Not even indirectly: from the edges, the domain, the API and auth helpers, and enqueue, no chain of imports " +
        "may lead to a task or the engine. This is what keeps the worker's code out of the web bundle.",
      from: {
        path: "^(app|components|lib/(domain|api|auth)|jobs/(enqueue|catalog)\\.ts$|proxy\\.ts$)",
        pathNot: TESTS,
      },
      to: { path: "^(jobs/tasks|lib/engine)/", reachable: true },
    },
    {
      name: "cli-is-only-an-api-client",
      severity: "error",
      comment:
        "The CLI (cli/, bin/) runs on users' machines and speaks to the platform over HTTP: importing the domain, the " +
        "engine, the database client or the environment would pull server code (and Prisma) into it. Its answer " +
        "schemas are checked against the OpenAPI document by its tests instead (cli/api/operations.test.ts).",
      from: { path: "^(cli|bin)/", pathNot: TESTS },
      to: { path: "^(app|components|lib|jobs|scripts|prisma|test|e2e|types)/|^proxy\\.ts$" },
    },
    {
      name: "production-code-never-imports-tests",
      severity: "error",
      comment:
        "test/ holds fakes and fixtures; tests may import anything, production code none of it. The benchmarks " +
        "(scripts/bench*) are test tooling: they drive the platform against the fakes on purpose. So is the host " +
        "smoke (scripts/smoke/), which starts the local test CA of test/pebble.ts.",
      from: { path: APP_CODE, pathNot: [TESTS, "^scripts/bench", "^scripts/smoke/"] },
      to: { path: ["^test/", "\\.(test|spec)\\.tsx?$"] },
    },
  ],
  options: {
    // Resolve the "@/..." aliases of tsconfig.json.
    tsConfig: { fileName: "tsconfig.json" },
    // Type-only imports count: a type cycle is still a tangle a newcomer has to untie.
    tsPreCompilationDeps: true,
    // Fast: never descend into dependencies or generated code.
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(node_modules|lib/generated|\\.next|playwright-report|test-results)/" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      extensions: [".ts", ".tsx", ".js", ".mjs", ".cjs", ".json"],
      mainFields: ["module", "main", "types", "typings"],
    },
    cache: { folder: "node_modules/.cache/dependency-cruiser", strategy: "content" },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
