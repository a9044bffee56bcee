import type { Metadata } from "next";
import { connection } from "next/server";
import type { ReactNode } from "react";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Tussilago", template: "%s · Tussilago" },
  description: "Run and host your Python applications on your own servers, sandboxed with gVisor.",
};

export default async function RootLayout({ children }: { children: ReactNode }) {
  // Every page is rendered per request: the CSP nonce (proxy.ts) is new each time, and a page prerendered at build
  // time would carry scripts without it, which the browser would refuse.
  await connection();
  return (
    <html lang="en">
      <body className="min-h-screen bg-white text-zinc-900 antialiased dark:bg-zinc-950 dark:text-zinc-100">
        {/* The first stop of the keyboard: straight past the header and tabs to the page's <main id="main">. */}
        <a
          href="#main"
          className="sr-only rounded-md bg-zinc-900 px-3 py-2 font-medium text-sm text-white focus:not-sr-only focus:absolute focus:top-2 focus:left-2 focus:z-50"
        >
          Skip to content
        </a>
        {children}
      </body>
    </html>
  );
}
