// The one wrapper around every server action: signed-in user, zod-validated form input (unknown fields rejected),
// the team context from a membership check, and AppErrors turned into a state the form can show.
import { isRedirectError } from "next/dist/client/components/redirect-error";
import type { z } from "zod";
import { currentRequestMeta, currentUser } from "@/lib/auth/session";
import { type Db, getDb } from "@/lib/db";
import { type Ctx, type RequestMeta, userContext } from "@/lib/domain/context";
import { noteQuotaRefusal } from "@/lib/domain/notifications";
import type { PublicUser } from "@/lib/domain/users";
import { AppError, isAppError } from "@/lib/errors";
import { issueSentence } from "@/lib/issue-messages";
import { logger } from "@/lib/logger";

export type ActionState<T = undefined> = {
  status: "idle" | "success" | "error";
  message?: string;
  fieldErrors?: Record<string, string>;
  data?: T;
};

export const idle: ActionState<never> = { status: "idle" };

/** FormData → plain object. Framework fields ($ACTION_...) are dropped; repeated keys become arrays. */
export function formToObject(formData: FormData): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, value] of formData.entries()) {
    if (key.startsWith("$ACTION")) continue;
    const text = typeof value === "string" ? value : value.name;
    const existing = result[key];
    if (existing === undefined) result[key] = text;
    else result[key] = Array.isArray(existing) ? [...existing, text] : [existing, text];
  }
  return result;
}

/** One sentence per field, the first issue's: a field's error is shown once, under it, in words. */
function fieldErrorsOf(error: z.ZodError): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const issue of error.issues) {
    const key = issue.path.join(".") || "_form";
    errors[key] ??= issueSentence(issue);
  }
  return errors;
}

function failure(error: unknown, requestId: string): ActionState<never> {
  if (isAppError(error)) {
    const details = Array.isArray(error.details) ? (error.details as { path?: string; message?: string }[]) : [];
    const fieldErrors = Object.fromEntries(details.filter((d) => d.path && d.message).map((d) => [d.path, d.message]));
    return { status: "error", message: error.message, ...(details.length ? { fieldErrors } : {}) };
  }
  logger({ requestId }).error({ err: error }, "server action failed");
  return { status: "error", message: `Something went wrong on our side (reference ${requestId}).` };
}

type PublicActionDeps = { db: Db; meta: RequestMeta };
type UserActionDeps = PublicActionDeps & { user: PublicUser };
type TeamActionDeps = UserActionDeps & { ctx: Ctx };
type Run<I, D, T> = (input: I, deps: D) => Promise<ActionState<T> | undefined>;
type FormAction<T> = (previous: ActionState<T>, formData: FormData) => Promise<ActionState<T>>;

/**
 * The core of every wrapper: validate a plain object (a form's fields, or the arguments of a typed call, which are
 * as hostile), run, and turn failures into a state the caller can show.
 */
function validated<S extends z.ZodType, T>(
  schema: S,
  run: Run<z.output<S>, PublicActionDeps, T>,
): (raw: unknown) => Promise<ActionState<T>> {
  return async (raw) => {
    const meta = await currentRequestMeta();
    try {
      const parsed = schema.safeParse(raw);
      if (!parsed.success)
        return { status: "error", message: "Check the highlighted fields.", fieldErrors: fieldErrorsOf(parsed.error) };
      return (await run(parsed.data, { db: getDb(), meta })) ?? { status: "success" };
    } catch (error) {
      if (isRedirectError(error)) throw error;
      return failure(error, meta.requestId);
    }
  };
}

function fromForm<T>(call: (raw: unknown) => Promise<ActionState<T>>): FormAction<T> {
  return async (_previous, formData) => await call(formToObject(formData));
}

function withUser<I, T>(run: Run<I, UserActionDeps, T>): Run<I, PublicActionDeps, T> {
  return async (input, deps) => {
    const user = await currentUser();
    if (!user) throw new AppError("unauthenticated", "Your session has ended. Sign in again.");
    return await run(input, { ...deps, user });
  };
}

function withTeam<I, T>(run: Run<I, TeamActionDeps, T>): Run<I, PublicActionDeps, T> {
  return withUser(async (input, deps) => {
    const teamId = (input as { teamId?: unknown }).teamId;
    if (typeof teamId !== "string") throw new AppError("not_found", "Team not found.");
    const ctx = await userContext(deps.db, deps.user.id, teamId, deps.meta);
    try {
      return await run(input, { ...deps, ctx });
    } catch (error) {
      // A quota refusal tells the team's channels (quota.reached), once its transaction has rolled back.
      await noteQuotaRefusal(deps.db, ctx.teamId, error);
      throw error;
    }
  });
}

/** An action for people who are not signed in (sign in, sign up, password reset). */
export function publicAction<S extends z.ZodType, T = undefined>(
  schema: S,
  run: Run<z.output<S>, PublicActionDeps, T>,
): FormAction<T> {
  return fromForm(validated(schema, run));
}

/** An action for a signed-in user outside any team (create a team, change the password...). */
export function userAction<S extends z.ZodType, T = undefined>(
  schema: S,
  run: Run<z.output<S>, UserActionDeps, T>,
): FormAction<T> {
  return fromForm(validated(schema, withUser(run)));
}

/**
 * An action inside a team. The form carries `teamId`; membership is checked here and the domain function checks
 * the role, so another team's ID answers "not found" like an ID that does not exist.
 */
export function teamAction<S extends z.ZodObject, T = undefined>(
  schema: S,
  run: Run<z.output<S>, TeamActionDeps, T>,
): FormAction<T> {
  return fromForm(validated(schema, withTeam(run)));
}

/**
 * userAction for client code that calls a server function with arguments rather than submitting a form (the live
 * views' polls): the same checks, typed input instead of FormData. The arguments are validated all the same.
 */
export function userCall<S extends z.ZodType, T = undefined>(
  schema: S,
  run: Run<z.output<S>, UserActionDeps, T>,
): (input: z.input<S>) => Promise<ActionState<T>> {
  return validated(schema, withUser(run));
}

/** teamAction with typed input (see userCall): `teamId` is one of the arguments, membership checked on each call. */
export function teamCall<S extends z.ZodObject, T = undefined>(
  schema: S,
  run: Run<z.output<S>, TeamActionDeps, T>,
): (input: z.input<S>) => Promise<ActionState<T>> {
  return validated(schema, withTeam(run));
}
