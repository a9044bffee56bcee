// Who sent a webhook delivery and whether it proves the app's webhook secret, each forge its own way. Pure: the
// headers and the raw body in, a verdict out. HMAC and comparison come from node:crypto (timingSafeEqual), never a
// hand-written compare, so a wrong signature takes as long to refuse whatever its first wrong byte.
//
// - GitHub: X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>; X-GitHub-Event; X-GitHub-Delivery.
//   https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
// - GitLab: X-Gitlab-Token equals the secret; X-Gitlab-Event ("Push Hook"); X-Gitlab-Event-UUID.
//   https://docs.gitlab.com/user/project/integrations/webhooks/
// - Gitea / Forgejo: X-Gitea-Signature (or X-Forgejo-Signature): <hex HMAC-SHA256 of the body>; X-Gitea-Event;
//   X-Gitea-Delivery. They also send GitHub's headers for compatibility, so they are recognised first.
//   https://docs.gitea.com/usage/webhooks, https://forgejo.org/docs/latest/user/webhooks/
// - Generic (any script or CI): X-Tussilago-Signature: sha256=<hex>; X-Tussilago-Event (default push);
//   X-Tussilago-Delivery (optional).
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export type Forge = "github" | "gitlab" | "gitea" | "generic";

export type SignedDelivery = {
  forge: Forge;
  /** Lower-cased: push, ping, tag_push... as the forge names it. */
  event: string;
  /** The forge's delivery ID, or the SHA-256 of the body when it sends none (or one that is not plain text). */
  deliveryId: string;
};

const HEX_SHA256 = /^[0-9a-f]{64}$/i;
const PLAIN_ID = /^[A-Za-z0-9._:-]{1,128}$/;

function hmacHex(secret: string, body: Buffer): string {
  return createHmac("sha256", secret).update(body).digest("hex");
}

/** Constant-time equality of two strings of any length (hashed first, so lengths do not leak either). */
export function safeEqual(a: string, b: string): boolean {
  const key = randomBytes(32);
  const left = createHmac("sha256", key).update(a).digest();
  const right = createHmac("sha256", key).update(b).digest();
  return timingSafeEqual(left, right);
}

function hexSignatureMatches(given: string | null, secret: string, body: Buffer): boolean {
  if (given === null || !HEX_SHA256.test(given)) return false;
  return timingSafeEqual(Buffer.from(given.toLowerCase(), "hex"), Buffer.from(hmacHex(secret, body), "hex"));
}

function prefixedSignatureMatches(given: string | null, secret: string, body: Buffer): boolean {
  if (given === null || !given.startsWith("sha256=")) return false;
  return hexSignatureMatches(given.slice("sha256=".length), secret, body);
}

/** Which forge the headers claim to come from; null when none (refused). */
export function detectForge(headers: Headers): Forge | null {
  if (headers.has("x-gitea-event") || headers.has("x-forgejo-event") || headers.has("x-gitea-signature")) {
    return "gitea";
  }
  if (headers.has("x-gitlab-event") || headers.has("x-gitlab-token")) return "gitlab";
  if (headers.has("x-github-event") || headers.has("x-hub-signature-256")) return "github";
  if (headers.has("x-tussilago-signature")) return "generic";
  return null;
}

function bodyHash(body: Buffer): string {
  return `sha256:${createHash("sha256").update(body).digest("hex")}`;
}

function plainId(value: string | null, body: Buffer): string {
  return value !== null && PLAIN_ID.test(value) ? value : bodyHash(body);
}

function eventName(value: string | null, fallback: string): string {
  const name = (value ?? fallback).trim().toLowerCase().replace(/\s+/g, "_");
  return /^[a-z0-9_.-]{1,64}$/.test(name) ? name : "unknown";
}

/**
 * Verifies the delivery against the secret. Null when it does not verify (or names no forge): the caller answers
 * 401 and acts on nothing in it.
 */
export function verifyDelivery(headers: Headers, body: Buffer, secret: string): SignedDelivery | null {
  const forge = detectForge(headers);
  switch (forge) {
    case "github":
      if (!prefixedSignatureMatches(headers.get("x-hub-signature-256"), secret, body)) return null;
      return {
        forge,
        event: eventName(headers.get("x-github-event"), "unknown"),
        deliveryId: plainId(headers.get("x-github-delivery"), body),
      };
    case "gitlab": {
      const token = headers.get("x-gitlab-token");
      if (token === null || !safeEqual(token, secret)) return null;
      // "Push Hook" → push_hook; the push handler reads push_hook and tag_push_hook.
      return {
        forge,
        event: eventName(headers.get("x-gitlab-event"), "unknown"),
        deliveryId: plainId(headers.get("x-gitlab-event-uuid"), body),
      };
    }
    case "gitea": {
      const signature = headers.get("x-gitea-signature") ?? headers.get("x-forgejo-signature");
      if (!hexSignatureMatches(signature, secret, body)) return null;
      return {
        forge,
        event: eventName(headers.get("x-gitea-event") ?? headers.get("x-forgejo-event"), "unknown"),
        deliveryId: plainId(headers.get("x-gitea-delivery") ?? headers.get("x-forgejo-delivery"), body),
      };
    }
    case "generic":
      if (!prefixedSignatureMatches(headers.get("x-tussilago-signature"), secret, body)) return null;
      return {
        forge,
        event: eventName(headers.get("x-tussilago-event"), "push"),
        deliveryId: plainId(headers.get("x-tussilago-delivery"), body),
      };
    default:
      return null;
  }
}

/** The event names that mean "commits were pushed" and "is anyone there", per forge. */
export function eventKind(delivery: SignedDelivery): "push" | "ping" | "other" {
  const { forge, event } = delivery;
  if (forge === "gitlab") return event === "push_hook" || event === "tag_push_hook" ? "push" : "other";
  if (event === "push") return "push";
  if (event === "ping") return "ping";
  return "other";
}
