// A minimal OpenID Connect issuer for tests, on loopback HTTP: discovery, an authorization endpoint that consents at
// once for a configurable user, a token endpoint (client_secret_basic or client_secret_post, single-use codes bound
// to the client and redirect URI, PKCE S256), RS256 ID tokens signed with node:crypto, JWKS and userinfo.
// next-auth (@auth/core with oauth4webapi) sends client_secret_basic and PKCE S256 by default for `type: "oidc"`
// providers, with neither state nor nonce unless the provider's `checks` ask for them; both are honoured when sent.
// `POST /_test/user` (JSON) changes the user from another process, e.g. a Playwright spec.
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

export type OidcUser = {
  sub: string;
  email?: string;
  name?: string;
  /** The `email_verified` claim; omitted when undefined. */
  emailVerified?: boolean;
};

export type FakeOidcOptions = {
  clientId: string;
  clientSecret: string;
  /** The user /authorize signs in; null answers `access_denied`, like a person who declines. */
  user?: OidcUser | null;
  /** When set, /authorize and /token accept only these redirect URIs (exact match). */
  redirectUris?: string[];
  /** ID token lifetime; 5 minutes by default. */
  idTokenTtlS?: number;
};

export type TokenRequestRecord = {
  clientAuth: "client_secret_basic" | "client_secret_post" | "none";
  grantType: string | null;
  withCodeVerifier: boolean;
  status: number;
};

export type AuthorizeRequestRecord = {
  params: Record<string, string>;
  status: number;
};

export type FakeOidc = {
  /** http://127.0.0.1:<port>, also the `iss` of its tokens. */
  issuer: string;
  setUser(user: OidcUser | null): void;
  authorizeRequests(): AuthorizeRequestRecord[];
  tokenRequests(): TokenRequestRecord[];
  close(): Promise<void>;
};

type IssuedCode = {
  clientId: string;
  redirectUri: string;
  codeChallenge: string | null;
  nonce: string | null;
  scope: string;
  user: OidcUser;
  expiresAt: number;
};

const CODE_TTL_MS = 60_000;
const ACCESS_TOKEN_TTL_S = 300;
const MAX_BODY_BYTES = 64 * 1024;

function base64url(input: Buffer | string): string {
  return Buffer.from(input).toString("base64url");
}

/** Compact JWS with RS256 (RSASSA-PKCS1-v1_5 with SHA-256). */
export function signRs256(payload: Record<string, unknown>, privateKey: KeyObject, kid: string): string {
  const header = base64url(JSON.stringify({ alg: "RS256", typ: "JWT", kid }));
  const body = base64url(JSON.stringify(payload));
  const signature = sign("sha256", Buffer.from(`${header}.${body}`), privateKey);
  return `${header}.${body}.${base64url(signature)}`;
}

export function pkceChallenge(verifier: string): string {
  return base64url(createHash("sha256").update(verifier).digest());
}

function json(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", ...headers });
  response.end(JSON.stringify(body));
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error("body too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** application/x-www-form-urlencoded decoding of one credential (RFC 6749 2.3.1). */
function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, " "));
}

function basicCredentials(header: string | undefined): { id: string; secret: string } | null {
  const match = /^Basic ([A-Za-z0-9+/=]+)$/.exec(header ?? "");
  if (!match?.[1]) return null;
  const decoded = Buffer.from(match[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon === -1) return null;
  try {
    return { id: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
  } catch {
    return null;
  }
}

function claimsOf(user: OidcUser): Record<string, unknown> {
  return {
    sub: user.sub,
    ...(user.email === undefined ? {} : { email: user.email }),
    ...(user.emailVerified === undefined ? {} : { email_verified: user.emailVerified }),
    ...(user.name === undefined ? {} : { name: user.name }),
  };
}

function parseUser(value: unknown): OidcUser | null {
  if (value === null || typeof value !== "object") return null;
  const candidate = value as Record<string, unknown>;
  if (typeof candidate.sub !== "string" || !candidate.sub) return null;
  const optional = (key: string) => (typeof candidate[key] === "string" ? (candidate[key] as string) : undefined);
  return {
    sub: candidate.sub,
    email: optional("email"),
    name: optional("name"),
    emailVerified: typeof candidate.emailVerified === "boolean" ? candidate.emailVerified : undefined,
  };
}

export async function startFakeOidc(options: FakeOidcOptions): Promise<FakeOidc> {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const kid = randomBytes(8).toString("hex");
  const codes = new Map<string, IssuedCode>();
  const accessTokens = new Map<string, { user: OidcUser; expiresAt: number }>();
  const authorizeLog: AuthorizeRequestRecord[] = [];
  const tokenLog: TokenRequestRecord[] = [];
  let user: OidcUser | null = options.user === undefined ? null : options.user;
  let issuer = "";

  const redirectAllowed = (uri: string) => {
    if (options.redirectUris) return options.redirectUris.includes(uri);
    try {
      const url = new URL(uri);
      return (url.protocol === "http:" || url.protocol === "https:") && !url.hash;
    } catch {
      return false;
    }
  };

  const authorize = (url: URL, response: ServerResponse) => {
    const params = Object.fromEntries(url.searchParams);
    const fail = (status: number, message: string) => {
      authorizeLog.push({ params, status });
      // Never redirect to a client or redirect URI that did not check out (RFC 6749 4.1.2.1).
      response.writeHead(status, { "content-type": "text/plain" }).end(message);
    };
    if (params.client_id !== options.clientId) return fail(400, "unknown client_id");
    const redirectUri = params.redirect_uri ?? "";
    if (!redirectAllowed(redirectUri)) return fail(400, "redirect_uri is not registered");
    const back = new URL(redirectUri);
    const redirectWith = (values: Record<string, string>) => {
      for (const [key, value] of Object.entries(values)) back.searchParams.set(key, value);
      if (params.state !== undefined) back.searchParams.set("state", params.state);
      back.searchParams.set("iss", issuer);
      authorizeLog.push({ params, status: 302 });
      response.writeHead(302, { location: back.toString(), "cache-control": "no-store" }).end();
    };
    if (params.response_type !== "code") {
      return redirectWith({ error: "unsupported_response_type" });
    }
    const scope = params.scope ?? "";
    if (!scope.split(" ").includes("openid")) return redirectWith({ error: "invalid_scope" });
    const challenge = params.code_challenge ?? null;
    if (challenge !== null && params.code_challenge_method !== "S256") {
      return redirectWith({ error: "invalid_request", error_description: "only S256 code challenges" });
    }
    if (!user) return redirectWith({ error: "access_denied" });
    const code = randomBytes(32).toString("base64url");
    codes.set(code, {
      clientId: options.clientId,
      redirectUri,
      codeChallenge: challenge,
      nonce: params.nonce ?? null,
      scope,
      user,
      expiresAt: Date.now() + CODE_TTL_MS,
    });
    redirectWith({ code });
  };

  const token = async (request: IncomingMessage, response: ServerResponse) => {
    const record: TokenRequestRecord = { clientAuth: "none", grantType: null, withCodeVerifier: false, status: 0 };
    tokenLog.push(record);
    const answer = (status: number, body: unknown) => {
      record.status = status;
      json(response, status, body);
    };
    if (!(request.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded")) {
      return answer(400, { error: "invalid_request", error_description: "form-encoded body expected" });
    }
    const form = new URLSearchParams(await readBody(request));
    record.grantType = form.get("grant_type");
    record.withCodeVerifier = form.has("code_verifier");
    const basic = basicCredentials(request.headers.authorization);
    const posted = form.has("client_secret")
      ? { id: form.get("client_id") ?? "", secret: form.get("client_secret") ?? "" }
      : null;
    if (basic && posted) return answer(400, { error: "invalid_request", error_description: "two client auth methods" });
    record.clientAuth = basic ? "client_secret_basic" : posted ? "client_secret_post" : "none";
    const client = basic ?? posted;
    if (!client || client.id !== options.clientId || client.secret !== options.clientSecret) {
      return answer(401, { error: "invalid_client" });
    }
    if (record.grantType !== "authorization_code") return answer(400, { error: "unsupported_grant_type" });
    const code = form.get("code") ?? "";
    const issued = codes.get(code);
    // Single use: a code presented twice is gone, whatever the outcome of the first exchange.
    codes.delete(code);
    if (!issued || issued.expiresAt < Date.now() || issued.clientId !== client.id) {
      return answer(400, { error: "invalid_grant", error_description: "unknown, used or expired code" });
    }
    if (form.get("redirect_uri") !== issued.redirectUri) {
      return answer(400, { error: "invalid_grant", error_description: "redirect_uri does not match" });
    }
    const verifier = form.get("code_verifier");
    if (issued.codeChallenge === null ? verifier !== null : verifier === null) {
      return answer(400, { error: "invalid_grant", error_description: "code_verifier and code_challenge disagree" });
    }
    if (issued.codeChallenge !== null && pkceChallenge(verifier ?? "") !== issued.codeChallenge) {
      return answer(400, { error: "invalid_grant", error_description: "PKCE verification failed" });
    }
    const now = Math.floor(Date.now() / 1000);
    const idToken = signRs256(
      {
        iss: issuer,
        aud: client.id,
        ...claimsOf(issued.user),
        ...(issued.nonce === null ? {} : { nonce: issued.nonce }),
        iat: now,
        auth_time: now,
        exp: now + (options.idTokenTtlS ?? 300),
      },
      privateKey,
      kid,
    );
    const accessToken = randomBytes(32).toString("base64url");
    accessTokens.set(accessToken, { user: issued.user, expiresAt: Date.now() + ACCESS_TOKEN_TTL_S * 1000 });
    answer(200, {
      access_token: accessToken,
      token_type: "Bearer",
      expires_in: ACCESS_TOKEN_TTL_S,
      scope: issued.scope,
      id_token: idToken,
    });
  };

  const userinfo = (request: IncomingMessage, response: ServerResponse) => {
    const match = /^Bearer (\S+)$/.exec(request.headers.authorization ?? "");
    const grant = match?.[1] ? accessTokens.get(match[1]) : undefined;
    if (!grant || grant.expiresAt < Date.now()) {
      return json(response, 401, { error: "invalid_token" }, { "www-authenticate": 'Bearer error="invalid_token"' });
    }
    json(response, 200, claimsOf(grant.user));
  };

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", issuer);
    const route = `${request.method} ${url.pathname}`;
    const handle = async () => {
      switch (route) {
        case "GET /.well-known/openid-configuration":
          return json(response, 200, {
            issuer,
            authorization_endpoint: `${issuer}/authorize`,
            token_endpoint: `${issuer}/token`,
            userinfo_endpoint: `${issuer}/userinfo`,
            jwks_uri: `${issuer}/jwks`,
            response_types_supported: ["code"],
            grant_types_supported: ["authorization_code"],
            subject_types_supported: ["public"],
            id_token_signing_alg_values_supported: ["RS256"],
            scopes_supported: ["openid", "profile", "email"],
            claims_supported: ["sub", "email", "email_verified", "name"],
            token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
            code_challenge_methods_supported: ["S256"],
            authorization_response_iss_parameter_supported: true,
          });
        case "GET /authorize":
          return authorize(url, response);
        case "POST /token":
          return await token(request, response);
        case "GET /userinfo":
        case "POST /userinfo":
          return userinfo(request, response);
        case "GET /jwks":
          return json(response, 200, {
            keys: [{ ...publicKey.export({ format: "jwk" }), kid, alg: "RS256", use: "sig" }],
          });
        case "POST /_test/user": {
          const body = await readBody(request);
          const parsed = body === "null" ? null : parseUser(JSON.parse(body));
          if (body !== "null" && !parsed) return json(response, 400, { error: "a user needs a sub" });
          user = parsed;
          return json(response, 200, { user });
        }
        default:
          return json(response, 404, { error: "not_found" });
      }
    };
    handle().catch(() => {
      if (!response.headersSent) json(response, 400, { error: "invalid_request" });
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (!address || typeof address !== "object") throw new Error("the fake OIDC issuer has no port");
  issuer = `http://127.0.0.1:${address.port}`;

  return {
    issuer,
    setUser: (next) => {
      user = next;
    },
    authorizeRequests: () => [...authorizeLog],
    tokenRequests: () => [...tokenLog],
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Sets the user of a fake issuer running in another process (see `POST /_test/user`). */
export async function setRemoteOidcUser(issuer: string, user: OidcUser | null): Promise<void> {
  const response = await fetch(`${issuer}/_test/user`, { method: "POST", body: JSON.stringify(user) });
  if (!response.ok) throw new Error(`the fake OIDC issuer answered ${response.status}`);
}
