"use client";

import { CopyOnce } from "@/components/copy-once";
import {
  Field,
  type FormAction,
  FormMessage,
  HiddenFields,
  SelectField,
  SubmitButton,
  useActionForm,
} from "@/components/form";

type LinkData = { link: string | null };

const ONCE = "Copy this link now; it will not be shown again.";

const ROLE_OPTIONS = [
  { value: "member", label: "Member: deploys and edits apps" },
  { value: "viewer", label: "Viewer: reads only" },
  { value: "admin", label: "Admin: also manages people and tokens" },
] as const;

export function InviteForm({ action, teamId }: { action: FormAction<LinkData>; teamId: string }) {
  const form = useActionForm(action);
  const link = form.state.status === "success" ? form.state.data?.link : null;
  return (
    <div className="space-y-4">
      <form
        action={form.formAction}
        onSubmit={form.onSubmit}
        className="grid gap-4 sm:grid-cols-[1fr_16rem_auto] sm:items-start"
        noValidate
      >
        <HiddenFields values={{ teamId }} />
        <Field
          label="Email"
          name="email"
          type="email"
          autoComplete="off"
          required
          defaultValue={form.value("email")}
          error={form.fieldError("email")}
        />
        <SelectField
          label="Role"
          name="role"
          options={ROLE_OPTIONS}
          defaultValue={form.value("role", "member")}
          error={form.fieldError("role")}
        />
        <SubmitButton pending={form.pending} className="sm:mt-6.5">
          Send invitation
        </SubmitButton>
      </form>
      <FormMessage state={form.state} />
      {link ? <CopyOnce label="Invitation link" value={link} note={ONCE} /> : null}
    </div>
  );
}

export function ResendInvitationButton({
  action,
  teamId,
  invitationId,
}: {
  action: FormAction<LinkData>;
  teamId: string;
  invitationId: string;
}) {
  const form = useActionForm(action);
  const link = form.state.status === "success" ? form.state.data?.link : null;
  return (
    <div className="space-y-2">
      <form action={form.formAction}>
        <HiddenFields values={{ teamId, invitationId }} />
        <SubmitButton pending={form.pending} variant="secondary">
          Resend
        </SubmitButton>
      </form>
      <FormMessage state={form.state} />
      {link ? <CopyOnce label="New invitation link" value={link} note={ONCE} /> : null}
    </div>
  );
}
