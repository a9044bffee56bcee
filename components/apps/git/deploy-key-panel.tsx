// The app's SSH deploy key for a private repository: its public half and fingerprint with copy buttons, and create or
// replace for roles that may. The private half never leaves the worker.
import { ActionButton } from "@/components/action-button";
import { CopyButton } from "@/components/apps/domains/copy-button";
import type { FormAction } from "@/components/form";
import { DateTime } from "@/components/ui";
import type { DeployKeyView } from "@/lib/domain/deploy-keys";

type DeployKeyPanelProps = {
  fields: Record<string, string>;
  deployKey: DeployKeyView | null;
  /** Null for roles that can only look. */
  create: FormAction | null;
};

export function DeployKeyPanel({ fields, deployKey, create }: DeployKeyPanelProps) {
  return (
    <div className="space-y-3">
      {deployKey ? (
        <>
          <div className="space-y-1">
            <p className="font-medium text-sm">Public key</p>
            <div className="flex items-start gap-2">
              <code
                className="block min-w-0 flex-1 break-all rounded bg-zinc-100 px-2 py-1 font-mono text-xs dark:bg-zinc-900"
                data-testid="deploy-key"
              >
                {deployKey.publicKey}
              </code>
              <CopyButton value={deployKey.publicKey} label="Copy the public key" />
            </div>
          </div>
          <p className="text-sm">
            Fingerprint{" "}
            <code className="font-mono text-xs" data-testid="deploy-key-fingerprint">
              {deployKey.fingerprint}
            </code>{" "}
            <CopyButton value={deployKey.fingerprint} label="Copy the fingerprint" />
          </p>
          <p className="text-xs text-zinc-500">
            Created <DateTime value={deployKey.createdAt} />. Add it to the repository as a read-only deploy key
            (GitHub: Settings → Deploy keys; GitLab: Settings → Repository → Deploy keys; Forgejo/Gitea: Settings →
            Deploy keys), then use the repository's SSH URL as the app's source.
          </p>
        </>
      ) : (
        <p className="text-sm text-zinc-500">
          No deploy key. Create one to clone a private repository over SSH (git@host:org/repo.git).
        </p>
      )}
      {create ? (
        <ActionButton
          action={create}
          fields={fields}
          label={deployKey ? "Replace the key" : "Create a deploy key"}
          variant={deployKey ? "secondary" : "primary"}
          {...(deployKey
            ? { confirm: "Replace the key? Clones fail until the new one is added to the repository." }
            : {})}
        />
      ) : null}
    </div>
  );
}
