import { createPublicKey, type JsonWebKey, randomBytes, verify } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { type FakeOidc, type FakeOidcOptions, pkceChallenge, setRemoteOidcUser, startFakeOidc } from "@/test/fake-oidc";

const CLIENT = { clientId: "tussilago", clientSecret: "s3cret:with+special/chars" };
const REDIRECT = "http://127.0.0.1:4000/api/auth/callback/oidc";
const ADA = { sub: "ada-1", email: "ada@example.test", name: "Ada Lovelace", emailVerified: true };

let oidc: FakeOidc | null = null;

afterEach(async () => {
  await oidc?.close();
  oidc = null;
});

async function start(options: Partial<FakeOidcOptions> = {}): Promise<FakeOidc> {
  oidc = await startFakeOidc({ ...CLIENT, user: ADA, ...options });
  return oidc;
}

function decodePart(part: string | undefined): Record<string, unknown> {
  return JSON.parse(Buffer.from(part ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
}

async function authorize(issuer: string, params: Record<string, string>): Promise<Response> {
  const url = new URL(`${issuer}/authorize`);
  const defaults = { response_type: "code", client_id: CLIENT.clientId, redirect_uri: REDIRECT, scope: "openid email" };
  for (const [key, value] of Object.entries({ ...defaults, ...params })) url.searchParams.set(key, value);
  return await fetch(url, { redirect: "manual" });
}

/** The code of a successful /authorize, with the whole redirect for further checks. */
async function codeFrom(issuer: string, params: Record<string, string> = {}): Promise<{ code: string; back: URL }> {
  const response = await authorize(issuer, params);
  expect(response.status).toBe(302);
  const back = new URL(response.headers.get("location") ?? "");
  return { code: back.searchParams.get("code") ?? "", back };
}

// What oauth4webapi does for next-auth: client_secret_basic with form-encoded credentials.
function basic(id: string, secret: string): string {
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, "+");
  return `Basic ${btoa(`${encode(id)}:${encode(secret)}`)}`;
}

async function exchange(
  issuer: string,
  fields: Record<string, string>,
  auth: "basic" | "post" | "both" = "basic",
  secret = CLIENT.clientSecret,
): Promise<Response> {
  const body = new URLSearchParams({ grant_type: "authorization_code", redirect_uri: REDIRECT, ...fields });
  const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded" };
  if (auth !== "post") headers.authorization = basic(CLIENT.clientId, secret);
  if (auth !== "basic") {
    body.set("client_id", CLIENT.clientId);
    body.set("client_secret", secret);
  }
  return await fetch(`${issuer}/token`, { method: "POST", headers, body });
}

describe("fake OIDC issuer", () => {
  it("publishes discovery metadata pointing at its own endpoints", async () => {
    const { issuer } = await start();
    const response = await fetch(`${issuer}/.well-known/openid-configuration`);
    expect(response.status).toBe(200);
    const metadata = (await response.json()) as Record<string, unknown>;
    expect(metadata).toMatchObject({
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      userinfo_endpoint: `${issuer}/userinfo`,
      jwks_uri: `${issuer}/jwks`,
      code_challenge_methods_supported: ["S256"],
      id_token_signing_alg_values_supported: ["RS256"],
    });
  });

  it("runs the code flow with PKCE, state and nonce, and signs an ID token its JWKS verifies", async () => {
    const { issuer } = await start();
    const verifier = randomBytes(32).toString("base64url");
    const { code, back } = await codeFrom(issuer, {
      state: "st-1",
      nonce: "n-1",
      code_challenge: pkceChallenge(verifier),
      code_challenge_method: "S256",
    });
    expect(back.origin + back.pathname).toBe(REDIRECT);
    expect(back.searchParams.get("state")).toBe("st-1");
    expect(back.searchParams.get("iss")).toBe(issuer);
    expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const response = await exchange(issuer, { code, code_verifier: verifier });
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const tokens = (await response.json()) as { access_token: string; token_type: string; id_token: string };
    expect(tokens.token_type).toBe("Bearer");

    const [header, payload, signature] = tokens.id_token.split(".");
    const jwtHeader = decodePart(header);
    expect(jwtHeader.alg).toBe("RS256");
    const claims = decodePart(payload);
    expect(claims).toMatchObject({
      iss: issuer,
      aud: CLIENT.clientId,
      sub: "ada-1",
      email: "ada@example.test",
      email_verified: true,
      name: "Ada Lovelace",
      nonce: "n-1",
    });
    expect(Number(claims.exp) - Number(claims.iat)).toBe(300);

    const jwks = (await (await fetch(`${issuer}/jwks`)).json()) as { keys: (JsonWebKey & { kid: string })[] };
    const jwk = jwks.keys.find((key) => key.kid === jwtHeader.kid);
    expect(jwk?.kty).toBe("RSA");
    expect(jwk).not.toHaveProperty("d");
    const key = createPublicKey({ key: jwk as JsonWebKey, format: "jwk" });
    const signed = Buffer.from(`${header}.${payload}`);
    expect(verify("sha256", signed, key, Buffer.from(signature ?? "", "base64url"))).toBe(true);
    expect(verify("sha256", Buffer.from(`${header}.${payload}x`), key, Buffer.from(signature ?? "", "base64url"))).toBe(
      false,
    );

    const userinfo = await fetch(`${issuer}/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(await userinfo.json()).toEqual({
      sub: "ada-1",
      email: "ada@example.test",
      email_verified: true,
      name: "Ada Lovelace",
    });
    expect((await fetch(`${issuer}/userinfo`, { headers: { authorization: "Bearer nope" } })).status).toBe(401);
    expect(oidc?.tokenRequests()).toEqual([
      { clientAuth: "client_secret_basic", grantType: "authorization_code", withCodeVerifier: true, status: 200 },
    ]);
  });

  it("authenticates clients by basic or post, never a wrong secret or both at once", async () => {
    const { issuer } = await start();
    expect((await exchange(issuer, { code: (await codeFrom(issuer)).code }, "post")).status).toBe(200);
    expect((await exchange(issuer, { code: (await codeFrom(issuer)).code }, "basic", "wrong")).status).toBe(401);
    expect((await exchange(issuer, { code: (await codeFrom(issuer)).code }, "post", "wrong")).status).toBe(401);
    expect((await exchange(issuer, { code: (await codeFrom(issuer)).code }, "both")).status).toBe(400);
    const anonymous = await fetch(`${issuer}/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "authorization_code", code: (await codeFrom(issuer)).code }),
    });
    expect(anonymous.status).toBe(401);
    expect(oidc?.tokenRequests().map((record) => [record.clientAuth, record.status])).toEqual([
      ["client_secret_post", 200],
      ["client_secret_basic", 401],
      ["client_secret_post", 401],
      ["none", 400],
      ["none", 401],
    ]);
  });

  it("refuses reused codes, another redirect URI, and PKCE mismatches", async () => {
    const { issuer } = await start();
    const verifier = randomBytes(32).toString("base64url");
    const withPkce = { code_challenge: pkceChallenge(verifier), code_challenge_method: "S256" };
    const error = async (response: Response) => [response.status, ((await response.json()) as { error: string }).error];

    const first = await codeFrom(issuer, withPkce);
    expect((await exchange(issuer, { code: first.code, code_verifier: verifier })).status).toBe(200);
    expect(await error(await exchange(issuer, { code: first.code, code_verifier: verifier }))).toEqual([
      400,
      "invalid_grant",
    ]);

    const elsewhere = await codeFrom(issuer, withPkce);
    expect(
      await error(
        await exchange(issuer, {
          code: elsewhere.code,
          code_verifier: verifier,
          redirect_uri: "http://127.0.0.1:4000/other",
        }),
      ),
    ).toEqual([400, "invalid_grant"]);

    const wrongVerifier = await codeFrom(issuer, withPkce);
    expect(await error(await exchange(issuer, { code: wrongVerifier.code, code_verifier: "x".repeat(43) }))).toEqual([
      400,
      "invalid_grant",
    ]);
    const noVerifier = await codeFrom(issuer, withPkce);
    expect(await error(await exchange(issuer, { code: noVerifier.code }))).toEqual([400, "invalid_grant"]);
    const noChallenge = await codeFrom(issuer);
    expect(await error(await exchange(issuer, { code: noChallenge.code, code_verifier: verifier }))).toEqual([
      400,
      "invalid_grant",
    ]);
    expect(await error(await exchange(issuer, { code: "made-up" }))).toEqual([400, "invalid_grant"]);
  });

  it("answers bad authorization requests without redirecting to an unchecked URI, and errors by redirect otherwise", async () => {
    const { issuer } = await start({ redirectUris: [REDIRECT] });
    const unknownClient = await authorize(issuer, { client_id: "someone-else" });
    expect(unknownClient.status).toBe(400);
    expect(unknownClient.headers.get("location")).toBeNull();
    const unregistered = await authorize(issuer, { redirect_uri: "http://evil.example/callback" });
    expect(unregistered.status).toBe(400);
    expect(unregistered.headers.get("location")).toBeNull();

    const plain = await codeFrom(issuer, { code_challenge: "abc", code_challenge_method: "plain", state: "s" });
    expect(plain.code).toBe("");
    expect(plain.back.searchParams.get("error")).toBe("invalid_request");
    expect(plain.back.searchParams.get("state")).toBe("s");
    const noOpenid = await codeFrom(issuer, { scope: "email" });
    expect(noOpenid.back.searchParams.get("error")).toBe("invalid_scope");
  });

  it("signs in whichever user it is told to, also from another process, and denies when there is none", async () => {
    const { issuer } = await start({ user: null });
    const denied = await codeFrom(issuer);
    expect(denied.back.searchParams.get("error")).toBe("access_denied");

    await setRemoteOidcUser(issuer, { sub: "bo-2", email: "bo@example.test" });
    const tokens = (await (await exchange(issuer, { code: (await codeFrom(issuer)).code })).json()) as {
      id_token: string;
    };
    const claims = decodePart(tokens.id_token.split(".")[1]);
    expect(claims.sub).toBe("bo-2");
    expect(claims.email).toBe("bo@example.test");
    // Claims the user does not have are left out rather than sent empty.
    expect(claims).not.toHaveProperty("email_verified");
    expect(claims).not.toHaveProperty("name");
    expect(claims).not.toHaveProperty("nonce");

    oidc?.setUser(null);
    expect((await codeFrom(issuer)).back.searchParams.get("error")).toBe("access_denied");
    expect((await fetch(`${issuer}/_test/user`, { method: "POST", body: "{}" })).status).toBe(400);
  });
});
