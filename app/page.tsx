import Link from "next/link";
import { unstable_rethrow } from "next/navigation";
import { SystemStatus } from "@/components/system-status";
import { buttonClass } from "@/components/ui";
import { currentUser } from "@/lib/auth/session";

export default async function HomePage() {
  // The home page also reports the platform's health, so it must render while the database is down: an unknown
  // session then reads as signed out.
  const user = await currentUser().catch((error: unknown) => {
    // Next's own signals (e.g. "this page is dynamic" during the build) must go through untouched.
    unstable_rethrow(error);
    return null;
  });
  return (
    <main id="main" className="mx-auto flex max-w-3xl flex-col gap-10 px-6 py-16">
      <header className="space-y-4">
        <p className="font-semibold text-brand-900 text-sm tracking-wide dark:text-brand-400">TUSSILAGO</p>
        <h1 className="font-bold text-4xl tracking-tight sm:text-5xl">Your own platform for Python apps</h1>
        <p className="text-lg text-zinc-600 dark:text-zinc-400">
          Push a repository or upload a tarball; Tussilago builds it, runs it sandboxed under gVisor, routes it through
          Caddy and gives it its own PostgreSQL and Redis, on servers you control.
        </p>
        <nav aria-label="Account" className="flex flex-wrap gap-3 pt-2">
          {user ? (
            <Link href="/teams" className={buttonClass("primary")}>
              Go to your teams
            </Link>
          ) : (
            <>
              <Link href="/sign-in" className={buttonClass("primary")}>
                Sign in
              </Link>
              <Link href="/sign-up" className={buttonClass("secondary")}>
                Sign up
              </Link>
            </>
          )}
        </nav>
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
