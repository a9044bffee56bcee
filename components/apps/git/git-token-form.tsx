"use client";

// The HTTPS read token for a private repository: set or replace it, or remove it. It is never shown back, only
// whether one is set and the user name sent with it.
import { ActionButton } from "@/components/action-button";
import { Field, type FormAction, FormMessage, HiddenFields, SubmitButton, useActionForm } from "@/components/form";
import { DateTime } from "@/components/ui";
import type { GitTokenView } from "@/lib/domain/git-tokens";

type GitTokenFormProps = {
  fields: Record<string, string>;
  token: GitTokenView | null;
  /** Null for roles that can only look. */
  actions: { set: FormAction; remove: FormAction } | null;
};

function TokenEditor({
  fields,
  token,
  actions,
}: {
  fields: Record<string, string>;
  token: GitTokenView | null;
  actions: { set: FormAction; remove: FormAction };
}) {
  const { state, formAction, pending, onSubmit, value, fieldError } = useActionForm(actions.set);
  return (
    <>
      <form
        action={formAction}
        onSubmit={onSubmit}
        className="grid gap-3 sm:grid-cols-[12rem_minmax(0,1fr)_auto] sm:items-end"
      >
        <HiddenFields values={fields} />
        <Field
          label="User name"
          name="username"
          placeholder="git"
          autoComplete="off"
          defaultValue={value("username")}
          error={fieldError("username")}
        />
        <Field
          label={token ? "New token" : "Read token"}
          name="token"
          type="password"
          autoComplete="off"
          required
          error={fieldError("token")}
        />
        <SubmitButton pending={pending}>{token ? "Replace" : "Save"}</SubmitButton>
      </form>
      <FormMessage state={state} />
      {token ? (
        <ActionButton
          action={actions.remove}
          fields={fields}
          label="Remove the token"
          variant="danger"
          confirm="Remove the token?"
        />
      ) : null}
    </>
  );
}

export function GitTokenForm({ fields, token, actions }: GitTokenFormProps) {
  return (
    <div className="space-y-3">
      <p className="text-sm" data-testid="git-token-status">
        {token ? (
          <>
            A token is set (user <code className="font-mono text-xs">{token.username}</code>, saved{" "}
            <DateTime value={token.createdAt} />
            ). It is never shown again.
          </>
        ) : (
          <span className="text-zinc-500">No token: HTTPS clones are anonymous.</span>
        )}
      </p>
      {actions ? <TokenEditor fields={fields} token={token} actions={actions} /> : null}
    </div>
  );
}
