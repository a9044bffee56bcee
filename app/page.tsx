import { SystemStatus } from "@/components/system-status";

export default function HomePage() {
  return (
    <main className="mx-auto flex max-w-3xl flex-col gap-10 px-6 py-16">
      <header className="space-y-4">
        <p className="font-semibold text-brand-600 text-sm tracking-wide">TUSSILAGO</p>
        <h1 className="font-bold text-4xl tracking-tight sm:text-5xl">Your own platform for Python apps</h1>
        <p className="text-lg text-zinc-600 dark:text-zinc-400">
          Push a repository or upload a tarball; Tussilago builds it, runs it sandboxed under gVisor, routes it through
          Caddy and gives it its own PostgreSQL and Redis, on servers you control.
        </p>
      </header>
      <SystemStatus />
      <footer className="text-sm text-zinc-500">
        API:{" "}
        <a className="underline hover:text-zinc-800" href="/api/v1/openapi.json">
          OpenAPI document
        </a>
      </footer>
    </main>
  );
}
