// The identity endpoints: the token's team, its members, invitations, audit log, and async operations. Output
// schemas describe dates as ISO strings, so the serializers below convert the domain views before they are parsed.
import { z } from "zod";
import { defineEndpoint, errorBody } from "@/lib/api/endpoint";
import { idParams, isoDate, pageOf } from "@/lib/api/endpoints/common";
import {
  EXAMPLE_IDS,
  EXAMPLE_LATER,
  EXAMPLE_TIME,
  exampleAuditEvent,
  exampleInvitation,
  exampleMember,
  exampleOperation,
  examplePage,
} from "@/lib/api/endpoints/examples";
import { pageQuery, queryDateTime, queryText } from "@/lib/api/query";
import type { AuditEventView } from "@/lib/domain/audit";
import { auditFilters } from "@/lib/domain/audit";
import type { InvitationView } from "@/lib/domain/invitations";
import type { MemberView } from "@/lib/domain/members";
import type { OperationView } from "@/lib/domain/operations-read";
import { anyRole, assignableRole, emailInput } from "@/lib/domain/schemas";
import type { TeamView } from "@/lib/domain/teams";

// Team

export const teamSchema = z.object({ id: z.uuid(), name: z.string(), slug: z.string(), createdAt: isoDate });

export function teamJson(team: TeamView): z.input<typeof teamSchema> {
  return { id: team.id, name: team.name, slug: team.slug, createdAt: team.createdAt.toISOString() };
}

export const getTeamEndpoint = defineEndpoint({
  id: "getTeam",
  method: "GET",
  path: "/api/v1/team",
  summary: "The team the API token belongs to",
  description: "The team the token belongs to (a token belongs to exactly one team). `404` when the team is gone.",
  examples: {
    responses: {
      200: { team: { id: EXAMPLE_IDS.team, name: "Acme", slug: "acme", createdAt: EXAMPLE_TIME } },
    },
  },
  tags: ["team"],
  auth: { scope: "read", permission: "team:read" },
  errors: ["not_found"],
  responses: { 200: { description: "The team", schema: z.object({ team: teamSchema }) } },
});

// Members

export const memberSchema = z.object({
  id: z.uuid().describe("The membership ID"),
  role: anyRole,
  user: z.object({ id: z.uuid(), email: z.string(), name: z.string().nullable() }),
  createdAt: isoDate,
});

export function memberJson(member: MemberView): z.input<typeof memberSchema> {
  return {
    id: member.id,
    role: member.role,
    user: { id: member.user.id, email: member.user.email, name: member.user.name },
    createdAt: member.createdAt.toISOString(),
  };
}

export const listMembersEndpoint = defineEndpoint({
  id: "listMembers",
  method: "GET",
  path: "/api/v1/members",
  summary: "The team's members, newest first",
  description: "The team's members with their role, newest first, paginated with `limit` and `cursor`.",
  examples: { responses: { 200: examplePage(exampleMember) } },
  tags: ["team"],
  auth: { scope: "read", permission: "members:read" },
  errors: [],
  query: pageQuery,
  responses: { 200: { description: "A page of members", schema: pageOf(memberSchema) } },
});

// Invitations

export const invitationSchema = z.object({
  id: z.uuid(),
  email: z.string(),
  role: anyRole,
  status: z.enum(["pending", "accepted", "revoked", "expired"]),
  expiresAt: isoDate,
  createdAt: isoDate,
  lastSentAt: isoDate,
});

export function invitationJson(invitation: InvitationView): z.input<typeof invitationSchema> {
  return {
    id: invitation.id,
    email: invitation.email,
    role: invitation.role,
    status: invitation.status,
    expiresAt: invitation.expiresAt.toISOString(),
    createdAt: invitation.createdAt.toISOString(),
    lastSentAt: invitation.lastSentAt.toISOString(),
  };
}

export const listInvitationsEndpoint = defineEndpoint({
  id: "listInvitations",
  method: "GET",
  path: "/api/v1/invitations",
  // The domain keeps invitations (email addresses of non-members) to admins; a read token acts as a viewer.
  summary:
    "The team's invitations, newest first. Needs an admin-level role: a read-only token acts as a viewer and is " +
    "answered 403, so use a token with the write scope",
  description:
    "The team's invitations (pending, accepted, revoked or expired), newest first. Invitations hold email addresses of people who are not members yet, so only admins and owners see them: a read-only token acts as a viewer and is answered `403`.",
  examples: { responses: { 200: examplePage(exampleInvitation) } },
  tags: ["team"],
  auth: { scope: "read", permission: "invitations:read" },
  errors: [],
  query: pageQuery,
  responses: { 200: { description: "A page of invitations", schema: pageOf(invitationSchema) } },
});

// The server trims and lower-cases the address before checking it with zod's email regex; the document states
// the regex, so what a client validates against it the server accepts.
export const createInvitationBody = z.strictObject({
  email: emailInput.meta({ format: "email", pattern: z.regexes.email.source }),
  role: assignableRole,
});

export const createInvitationEndpoint = defineEndpoint({
  id: "createInvitation",
  method: "POST",
  path: "/api/v1/invitations",
  summary: "Invite someone by email as admin, member or viewer; the invitation is valid for 72 hours",
  description:
    "Invites someone by email as `admin`, `member` or `viewer`, valid for 72 hours. With mail configured the link is mailed and `link` is `null`; without, `link` is the accept link, shown in this answer only. `409` when the address is already a member or has a pending invitation. Audited as `invitation.created`.",
  examples: {
    request: { email: "grace@example.com", role: "member" },
    responses: {
      201: {
        invitation: exampleInvitation,
        link: "https://tussilago.example.org/invitations/accept#token=Qm9vbGVhbiBsb2dpYw",
      },
    },
  },
  tags: ["team"],
  auth: { scope: "write", permission: "invitations:manage" },
  errors: ["conflict"],
  idempotent: true,
  body: createInvitationBody,
  responses: {
    201: {
      description:
        "Invited. `link` is the accept link, shown once, when no mail is configured; otherwise null. A replay " +
        "(same Idempotency-Key) answers null: the link is never stored",
      schema: z.object({ invitation: invitationSchema, link: z.url().nullable() }),
    },
    409: { description: "Already a member, or a pending invitation exists", schema: errorBody },
  },
  secretFields: ["link"],
});

export const revokeInvitationEndpoint = defineEndpoint({
  id: "revokeInvitation",
  method: "DELETE",
  path: "/api/v1/invitations/{id}",
  summary: "Revoke a pending invitation; its link stops working",
  description:
    "Revokes a pending invitation: its link stops working at once. `409` when it was already accepted or revoked. Audited as `invitation.revoked`.",
  examples: { responses: { 200: { invitation: { ...exampleInvitation, status: "revoked" } } } },
  tags: ["team"],
  auth: { scope: "write", permission: "invitations:manage" },
  errors: ["conflict"],
  params: idParams,
  responses: {
    200: { description: "Revoked", schema: z.object({ invitation: invitationSchema }) },
    409: { description: "The invitation was already accepted or revoked", schema: errorBody },
  },
});

// Audit events

export const auditEventSchema = z.object({
  id: z.uuid(),
  action: z.string(),
  actor: z.object({ type: z.enum(["user", "token", "system"]), id: z.uuid().nullable(), label: z.string() }),
  target: z.object({ type: z.string(), id: z.uuid().nullable() }),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  requestId: z.string().nullable(),
  metadata: z.unknown().describe("Action-specific details; never a secret"),
  createdAt: isoDate,
});

export function auditEventJson(event: AuditEventView): z.input<typeof auditEventSchema> {
  return {
    id: event.id,
    action: event.action,
    actor: { type: event.actor.type, id: event.actor.id, label: event.actor.label },
    target: { type: event.target.type, id: event.target.id },
    ip: event.ip,
    userAgent: event.userAgent,
    requestId: event.requestId,
    metadata: event.metadata,
    createdAt: event.createdAt.toISOString(),
  };
}

// Timestamps are RFC 3339 strings (lib/api/query.ts) rather than the domain's coerced dates, so that the OpenAPI
// document can describe them, `since=1` is not read as 1970, and year 0 never reaches PostgreSQL.
export const auditEventsQuery = z.strictObject({
  ...pageQuery.shape,
  action: queryText(100).optional().describe("Exact action, for example invitation.created"),
  actorId: auditFilters.shape.actorId,
  targetId: auditFilters.shape.targetId,
  since: queryDateTime("Events at or after this time").optional(),
  until: queryDateTime("Events before this time").optional(),
});

export const listAuditEventsEndpoint = defineEndpoint({
  id: "listAuditEvents",
  method: "GET",
  path: "/api/v1/audit-events",
  summary: "The team's audit log, newest first, optionally filtered",
  description:
    "The team's audit log, newest first: who (a user, a token or the system) did what to which resource, from where. Filter by exact `action`, `actorId`, `targetId` and a `since`/`until` time window. `ip` and `userAgent` are shown to admins, owners, write tokens and the event's own actor only.",
  examples: { responses: { 200: examplePage(exampleAuditEvent) } },
  tags: ["team"],
  auth: { scope: "read", permission: "audit:read" },
  errors: [],
  query: auditEventsQuery,
  responses: { 200: { description: "A page of audit events", schema: pageOf(auditEventSchema) } },
});

// Operations

export const operationSchema = z.object({
  id: z.uuid(),
  kind: z.string(),
  status: z.enum(["queued", "running", "succeeded", "failed", "cancelled"]),
  error: z.string().nullable().describe("Why it failed (or was cancelled), readable by people"),
  progress: z
    .string()
    .nullable()
    .describe(
      "What it is doing now (e.g. a restore's step), or its last step once finished; null when it has no steps",
    ),
  targetId: z.uuid().nullable(),
  createdAt: isoDate,
  startedAt: isoDate.nullable(),
  finishedAt: isoDate.nullable(),
});

export function operationJson(operation: OperationView): z.input<typeof operationSchema> {
  return {
    id: operation.id,
    kind: operation.kind,
    status: operation.status,
    error: operation.error,
    progress: operation.progress ?? null,
    targetId: operation.targetId,
    createdAt: operation.createdAt.toISOString(),
    startedAt: operation.startedAt?.toISOString() ?? null,
    finishedAt: operation.finishedAt?.toISOString() ?? null,
  };
}

export const getOperationEndpoint = defineEndpoint({
  id: "getOperation",
  method: "GET",
  path: "/api/v1/operations/{id}",
  summary: "The status of an asynchronous operation of the team",
  description:
    "An asynchronous operation of the team: endpoints that touch infrastructure answer `202` with one (and a `Location` header pointing here). Poll until `status` is `succeeded`, `failed` or `cancelled`; `error` then says why in words meant for people.",
  examples: {
    responses: {
      200: {
        operation: { ...exampleOperation, status: "succeeded", startedAt: EXAMPLE_TIME, finishedAt: EXAMPLE_LATER },
      },
    },
  },
  tags: ["operations"],
  auth: { scope: "read", permission: "team:read" },
  errors: [],
  params: idParams,
  responses: { 200: { description: "The operation", schema: z.object({ operation: operationSchema }) } },
});
