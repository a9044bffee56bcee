"use client";

// The rendered API reference: Redoc (its standalone bundle, served by app/docs/api/redoc.standalone.js) drawing the
// OpenAPI document the platform serves. The script is added from here rather than as a <script> tag so that the
// CSP's 'strict-dynamic' admits it through Next's nonced scripts, with no nonce plumbing and no inline script.
import { useEffect, useRef, useState } from "react";
import { Notice } from "@/components/ui";

type RedocGlobal = {
  init(
    spec: string,
    options: Record<string, unknown>,
    element: HTMLElement,
    callback?: (error?: unknown) => void,
  ): void;
};

const BUNDLE = "/docs/api/redoc.standalone.js";

export function ApiReference({ specUrl }: { specUrl: string }) {
  const container = useRef<HTMLDivElement>(null);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const render = () => {
      const redoc = (window as unknown as { Redoc?: RedocGlobal }).Redoc;
      if (!redoc) return setFailed(true);
      redoc.init(
        specUrl,
        {
          // Redoc's search runs in a Worker made from a blob: URL, which the CSP (no worker-src blob:) refuses;
          // the sidebar lists every operation by tag instead.
          disableSearch: true,
          expandResponses: "200,201,202",
          jsonSampleExpandLevel: 3,
          hideHostname: false,
          pathInMiddlePanel: true,
          theme: { colors: { primary: { main: "#b98900" } }, typography: { fontFamily: "system-ui, sans-serif" } },
        },
        element,
        (error) => {
          if (error) setFailed(true);
        },
      );
    };
    const existing = document.querySelector<HTMLScriptElement>(`script[src="${BUNDLE}"]`);
    if (existing) {
      if ((window as unknown as { Redoc?: RedocGlobal }).Redoc) render();
      else existing.addEventListener("load", render, { once: true });
      return;
    }
    const script = document.createElement("script");
    script.src = BUNDLE;
    script.async = true;
    script.addEventListener("load", render, { once: true });
    script.addEventListener("error", () => setFailed(true), { once: true });
    document.head.append(script);
  }, [specUrl]);

  return (
    <>
      {failed ? (
        <div className="mx-auto max-w-3xl p-6">
          <Notice tone="error" title="The API reference could not be shown">
            The raw document is at <a href={specUrl}>{specUrl}</a>.
          </Notice>
        </div>
      ) : null}
      <div ref={container} data-testid="api-reference" />
    </>
  );
}
