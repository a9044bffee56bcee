// The SSH host keys pinned for the app's git server. A clone trusts only confirmed keys: a key seen at first use waits
// here until a person has compared its fingerprint with the one the server's operator publishes.
import { ActionButton } from "@/components/action-button";
import type { FormAction } from "@/components/form";
import { Badge, DateTime } from "@/components/ui";
import type { GitHostKeyView } from "@/lib/domain/git-host-keys";

type HostKeysProps = {
  teamId: string;
  keys: GitHostKeyView[];
  /** Null for roles that can only look. */
  actions: { confirm: FormAction; remove: FormAction } | null;
};

function hostLabel(key: GitHostKeyView): string {
  return key.port === 22 ? key.host : `[${key.host}]:${key.port}`;
}

export function HostKeys({ teamId, keys, actions }: HostKeysProps) {
  if (keys.length === 0) {
    return (
      <p className="text-sm text-zinc-500">
        None yet. The first SSH clone records the server's keys (github.com, gitlab.com and codeberg.org are known).
      </p>
    );
  }
  return (
    <ul className="divide-y divide-zinc-200 dark:divide-zinc-800" aria-label="Host keys">
      {keys.map((key) => {
        const fields = { teamId, hostKeyId: key.id };
        return (
          <li key={key.id} className="space-y-2 py-3 first:pt-0 last:pb-0" data-testid="host-key">
            <div className="flex flex-wrap items-center gap-2">
              <span className="font-mono font-semibold text-sm">{hostLabel(key)}</span>
              <span className="text-xs text-zinc-500">{key.keyType}</span>
              {key.confirmed ? (
                <Badge tone="green">{key.source === "shipped" ? "known" : "confirmed"}</Badge>
              ) : (
                <Badge tone="amber">waiting for confirmation</Badge>
              )}
            </div>
            <p className="text-sm">
              Fingerprint <code className="break-all font-mono text-xs">{key.fingerprint}</code>
            </p>
            {!key.confirmed ? (
              <p className="text-amber-900 text-sm dark:text-amber-200">
                Compare this fingerprint with your server's own (
                <code className="font-mono text-xs">ssh-keygen -lf</code> on its host key, or the fingerprints its
                operator publishes) before confirming. A different fingerprint means someone may be in between: do not
                confirm it.
              </p>
            ) : (
              <p className="text-xs text-zinc-500">
                Recorded <DateTime value={key.createdAt} />
                {key.confirmedAt ? (
                  <>
                    , trusted <DateTime value={key.confirmedAt} />
                  </>
                ) : null}
                .
              </p>
            )}
            {actions ? (
              <div className="flex flex-wrap items-start gap-3">
                {!key.confirmed ? (
                  <ActionButton
                    action={actions.confirm}
                    fields={fields}
                    label="Confirm"
                    confirm={`Is ${key.fingerprint} your server's fingerprint?`}
                  />
                ) : null}
                <ActionButton
                  action={actions.remove}
                  fields={fields}
                  label="Forget"
                  variant="danger"
                  confirm="Forget this key? The next clone records the server's keys again."
                  className="ml-auto"
                />
              </div>
            ) : null}
          </li>
        );
      })}
    </ul>
  );
}
