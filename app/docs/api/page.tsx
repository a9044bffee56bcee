import type { Metadata } from "next";
import Link from "next/link";
import { ApiReference } from "@/components/api-reference";

export const metadata: Metadata = { title: "API reference" };

const SPEC_URL = "/api/v1/openapi.json";

// Public like the document it renders (GET /api/v1/openapi.json needs no token): it describes the API, not a team.
export default function ApiReferencePage() {
  return (
    <>
      <header className="border-zinc-200 border-b bg-white dark:border-zinc-800 dark:bg-zinc-950">
        <nav
          aria-label="API reference"
          className="mx-auto flex max-w-6xl flex-wrap items-center gap-x-4 gap-y-1 px-4 py-2.5 text-sm sm:px-6"
        >
          <Link href="/teams" className="font-semibold text-brand-600 tracking-wide">
            TUSSILAGO
          </Link>
          <span className="font-medium">API reference</span>
          <a href={SPEC_URL} className="text-zinc-600 underline underline-offset-2 dark:text-zinc-400">
            OpenAPI document (JSON)
          </a>
          <Link href="/teams" className="ml-auto text-zinc-600 underline underline-offset-2 dark:text-zinc-400">
            Back to the portal
          </Link>
        </nav>
      </header>
      <main className="bg-white text-zinc-900">
        <ApiReference specUrl={SPEC_URL} />
      </main>
    </>
  );
}
