"use client";

import {
  type FormAction,
  FormMessage,
  HiddenFields,
  SelectField,
  SubmitButton,
  useActionForm,
} from "@/components/form";

const ROLE_OPTIONS = [
  { value: "admin", label: "Admin" },
  { value: "member", label: "Member" },
  { value: "viewer", label: "Viewer" },
] as const;

type MemberRoleFormProps = {
  action: FormAction;
  teamId: string;
  membershipId: string;
  email: string;
  role: string;
};

/** Owners are not in the list: ownership moves only by transfer. An owner's row starts on "admin" for demoting. */
export function MemberRoleForm({ action, teamId, membershipId, email, role }: MemberRoleFormProps) {
  const form = useActionForm(action);
  return (
    <div className="space-y-2">
      <form action={form.formAction} onSubmit={form.onSubmit} className="flex items-center gap-2">
        <HiddenFields values={{ teamId, membershipId }} />
        <SelectField
          label={`Role of ${email}`}
          hideLabel
          name="role"
          options={ROLE_OPTIONS}
          defaultValue={form.value("role", role === "owner" ? "admin" : role)}
          className="w-32"
        />
        <SubmitButton pending={form.pending} variant="secondary">
          Change role
        </SubmitButton>
      </form>
      <FormMessage state={form.state} />
    </div>
  );
}
