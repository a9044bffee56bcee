// Private repositories: the app's SSH deploy key, its pinned SSH host keys, and its HTTPS read token.
import { z } from "zod";
import { defineEndpoint, errorBody } from "@/lib/api/endpoint";
import { idParams, iso, isoDate } from "@/lib/api/endpoints/common";
import { EXAMPLE_LATER, EXAMPLE_TIME, exampleDeployKey, exampleHostKey } from "@/lib/api/endpoints/examples";
import type { DeployKeyView } from "@/lib/domain/deploy-keys";
import type { GitHostKeyView } from "@/lib/domain/git-host-keys";
import type { GitTokenView } from "@/lib/domain/git-tokens";

const appParams = z.strictObject({ appId: z.uuid() });

export const deployKeySchema = z.object({
  publicKey: z.string().describe('OpenSSH public key ("ssh-ed25519 AAAA… tussilago-<app>"): add it to the repository'),
  fingerprint: z.string().describe("SHA256:… as ssh-keygen -lf prints it"),
  createdAt: isoDate,
});

export function deployKeyJson(key: DeployKeyView): z.input<typeof deployKeySchema> {
  return { ...key, createdAt: iso(key.createdAt) };
}

const oneDeployKey = z.object({ deployKey: deployKeySchema });

export const createDeployKeyEndpoint = defineEndpoint({
  id: "createDeployKey",
  method: "POST",
  path: "/api/v1/apps/{appId}/deploy-key",
  summary: "Create the app's SSH deploy key, or replace it with a new one (the private key never leaves the server)",
  description:
    "Creates the app's SSH deploy key (ed25519), or replaces it with a new one. Add the public key to the repository as a read-only deploy key; the private key never leaves the server. `409` while the app is being deleted.",
  examples: { responses: { 201: { deployKey: exampleDeployKey }, 200: { deployKey: exampleDeployKey } } },
  tags: ["git"],
  auth: { scope: "write", permission: "apps:write" },
  errors: ["conflict"],
  idempotent: true,
  params: appParams,
  responses: {
    200: { description: "Replaced (rotated): add the new public key to the repository", schema: oneDeployKey },
    201: { description: "Created", schema: oneDeployKey },
    409: { description: "The app is being deleted", schema: errorBody },
  },
});

export const getDeployKeyEndpoint = defineEndpoint({
  id: "getDeployKey",
  method: "GET",
  path: "/api/v1/apps/{appId}/deploy-key",
  summary: "The app's deploy key (public half)",
  description: "The public half of the app's deploy key and its fingerprint. `404` when it has none.",
  examples: { responses: { 200: { deployKey: exampleDeployKey } } },
  tags: ["git"],
  auth: { scope: "read", permission: "apps:read" },
  errors: [],
  params: appParams,
  responses: { 200: { description: "The deploy key", schema: oneDeployKey } },
});

export const deleteDeployKeyEndpoint = defineEndpoint({
  id: "deleteDeployKey",
  method: "DELETE",
  path: "/api/v1/apps/{appId}/deploy-key",
  summary: "Delete the app's deploy key; SSH clones fail until a new one is created",
  description: "Deletes the app's deploy key; SSH clones fail until a new one is created.",
  examples: { responses: {} },
  tags: ["git"],
  auth: { scope: "write", permission: "apps:write" },
  errors: [],
  params: appParams,
  responses: { 204: { description: "Deleted" } },
});

export const gitHostKeySchema = z.object({
  id: z.uuid(),
  appId: z.uuid(),
  host: z.string(),
  port: z.number().int(),
  keyType: z.string().describe("ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa, …"),
  publicKey: z.string().describe("The key as in a known_hosts line: type and base64 blob"),
  fingerprint: z.string().describe("SHA256:…; compare it with the fingerprint the server's operator publishes"),
  source: z
    .enum(["shipped", "first_use"])
    .describe("shipped: a forge's published key (github.com, gitlab.com, codeberg.org); first_use: seen by a clone"),
  confirmed: z.boolean().describe("Clones trust only confirmed keys"),
  confirmedAt: isoDate.nullable(),
  createdAt: isoDate,
});

export function gitHostKeyJson(key: GitHostKeyView): z.input<typeof gitHostKeySchema> {
  return { ...key, confirmedAt: iso(key.confirmedAt), createdAt: iso(key.createdAt) };
}

export const listGitHostKeysEndpoint = defineEndpoint({
  id: "listGitHostKeys",
  method: "GET",
  path: "/api/v1/apps/{appId}/git-host-keys",
  summary: "The SSH host keys pinned for the app's git server, oldest first",
  description:
    "The SSH host keys pinned for the app's git server, oldest first. Clones over SSH trust only confirmed keys: a key first seen by a clone waits for confirmation here.",
  examples: { responses: { 200: { items: [exampleHostKey] } } },
  tags: ["git"],
  auth: { scope: "read", permission: "apps:read" },
  errors: [],
  params: appParams,
  responses: { 200: { description: "The host keys", schema: z.object({ items: z.array(gitHostKeySchema) }) } },
});

const oneHostKey = z.object({ hostKey: gitHostKeySchema });

export const confirmGitHostKeyEndpoint = defineEndpoint({
  id: "confirmGitHostKey",
  method: "POST",
  path: "/api/v1/git-host-keys/{id}/confirm",
  summary: "Trust this host key for the app's clones (after comparing its fingerprint with the server's)",
  description:
    "Trusts a pinned host key for the app's SSH clones. Compare its fingerprint with the one the git server's operator publishes first.",
  examples: { responses: { 200: { hostKey: { ...exampleHostKey, confirmed: true, confirmedAt: EXAMPLE_LATER } } } },
  tags: ["git"],
  auth: { scope: "write", permission: "apps:write" },
  errors: [],
  params: idParams,
  idempotent: true,
  responses: { 200: { description: "The confirmed key", schema: oneHostKey } },
});

export const deleteGitHostKeyEndpoint = defineEndpoint({
  id: "deleteGitHostKey",
  method: "DELETE",
  path: "/api/v1/git-host-keys/{id}",
  summary: "Forget a pinned host key; the next SSH clone records the server's keys again for confirmation",
  description: "Forgets a pinned host key; the next SSH clone records the server's keys again, unconfirmed.",
  examples: { responses: {} },
  tags: ["git"],
  auth: { scope: "write", permission: "apps:write" },
  errors: [],
  params: idParams,
  responses: { 204: { description: "Forgotten" } },
});

// Printable ASCII without spaces: what forges issue, and nothing that could end a header line.
const tokenText = z.string().regex(/^[\x21-\x7e]+$/, "printable ASCII without spaces");

export const setGitTokenBody = z.strictObject({
  username: z
    .string()
    .regex(/^[A-Za-z0-9._@+-]{1,100}$/, "letters, digits and . _ @ + - only")
    .optional()
    .describe('Sent with the token (HTTP Basic); default "git". GitLab and Gitea accept any; GitHub ignores it'),
  token: tokenText.min(1).max(1024).describe("A read-only access token of the repository; stored sealed, never shown"),
});

export const gitTokenSchema = z.object({ username: z.string(), createdAt: isoDate });

export function gitTokenJson(token: GitTokenView): z.input<typeof gitTokenSchema> {
  return { ...token, createdAt: iso(token.createdAt) };
}

export const setGitTokenEndpoint = defineEndpoint({
  id: "setGitToken",
  method: "POST",
  path: "/api/v1/apps/{appId}/git-token",
  summary: "Store (or replace) the read token used to clone the app's private repository over HTTPS",
  description:
    "Stores (or replaces) a read-only access token used to clone the app's private repository over HTTPS. It is stored sealed and never answered. `409` while the app is being deleted.",
  examples: {
    request: { username: "git", token: "glpat-Xy7kQ2mN9pR4sT6vW8zA" },
    responses: { 200: { gitToken: { username: "git", createdAt: EXAMPLE_TIME } } },
  },
  tags: ["git"],
  auth: { scope: "write", permission: "apps:write" },
  errors: ["conflict"],
  idempotent: true,
  params: appParams,
  body: setGitTokenBody,
  responses: {
    200: { description: "Stored; the token itself is never answered", schema: z.object({ gitToken: gitTokenSchema }) },
    409: { description: "The app is being deleted", schema: errorBody },
  },
});

export const deleteGitTokenEndpoint = defineEndpoint({
  id: "deleteGitToken",
  method: "DELETE",
  path: "/api/v1/apps/{appId}/git-token",
  summary: "Delete the app's read token",
  description: "Deletes the app's HTTPS read token; clones of a private repository fail without it.",
  examples: { responses: {} },
  tags: ["git"],
  auth: { scope: "write", permission: "apps:write" },
  errors: [],
  params: appParams,
  responses: { 204: { description: "Deleted" } },
});
