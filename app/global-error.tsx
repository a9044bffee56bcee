"use client";

// The root layout itself failed, so this replaces it and brings its own <html>, without the stylesheet's classes
// being guaranteed: inline styles keep it readable. Never the message or stack, only the digest of the server log.
export default function GlobalError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <html lang="en">
      <body style={{ fontFamily: "system-ui, sans-serif", margin: 0, background: "#fafafa", color: "#18181b" }}>
        <main id="main" style={{ maxWidth: "28rem", margin: "0 auto", padding: "5rem 1rem", textAlign: "center" }}>
          <p style={{ color: "#4a3600", fontWeight: 600, fontSize: "0.875rem", letterSpacing: "0.05em" }}>TUSSILAGO</p>
          <h1 style={{ fontSize: "1.5rem" }}>Something went wrong</h1>
          <p style={{ fontSize: "0.875rem", color: "#52525b" }}>
            The portal could not be shown. Try again; if it keeps failing, tell your administrator
            {error.digest ? ` the reference ${error.digest}` : ""}.
          </p>
          <button
            type="button"
            onClick={reset}
            style={{
              marginTop: "1rem",
              padding: "0.5rem 1rem",
              borderRadius: "0.375rem",
              border: 0,
              background: "#18181b",
              color: "#fff",
            }}
          >
            Try again
          </button>
        </main>
      </body>
    </html>
  );
}
