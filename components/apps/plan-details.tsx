// The build plan of a deployment as the build job decided it, with its reasons ("which file decided what"), so a
// surprising build can be traced to the file that caused it. No hooks: usable from server and client components.
import type { ReactNode } from "react";
import type { PlanView } from "@/components/apps/deployment-snapshot";

function Item({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="min-w-0">
      <dt className="text-xs text-zinc-500 uppercase tracking-wide">{label}</dt>
      <dd className="mt-1 break-words text-sm">{children}</dd>
    </div>
  );
}

function Command({ value }: { value: string | null }) {
  if (!value) return <span className="text-zinc-500">none</span>;
  return <code className="break-all font-mono text-xs">{value}</code>;
}

export function PlanDetails({ plan, finished }: { plan: PlanView | null; finished: boolean }) {
  if (!plan) {
    return (
      <p className="text-sm text-zinc-500">
        {finished
          ? "This deployment ended before a plan was made."
          : "The plan appears once the source has been fetched and inspected."}
      </p>
    );
  }
  const processes = Object.entries(plan.processes);
  return (
    <div className="space-y-5" data-testid="build-plan">
      <dl className="grid grid-cols-2 gap-4 sm:grid-cols-4">
        <Item label="Builder">{plan.builder}</Item>
        <Item label="Installer">{plan.installer}</Item>
        <Item label="Python">{plan.builder === "python" ? plan.pythonVersion : "from the Containerfile"}</Item>
        <Item label="Release command">
          <Command value={plan.release} />
        </Item>
      </dl>
      <div>
        <h3 className="text-xs text-zinc-500 uppercase tracking-wide">Processes</h3>
        {processes.length === 0 ? (
          <p className="mt-1 text-sm text-zinc-500">None: the image's own command runs.</p>
        ) : (
          <ul className="mt-1 space-y-1">
            {processes.map(([name, command]) => (
              <li key={name} className="flex gap-3 text-sm">
                <span className="w-16 shrink-0 font-medium">{name}</span>
                <Command value={command} />
              </li>
            ))}
          </ul>
        )}
      </div>
      <div>
        <h3 className="text-xs text-zinc-500 uppercase tracking-wide">Why: which file decided what</h3>
        {plan.reasons.length === 0 ? (
          <p className="mt-1 text-sm text-zinc-500">No reasons were recorded.</p>
        ) : (
          <ul className="mt-1 list-disc space-y-1 pl-5 text-sm text-zinc-700 dark:text-zinc-300">
            {plan.reasons.map((reason, index) => (
              // Reasons can repeat word for word; their order is what identifies them.
              // biome-ignore lint/suspicious/noArrayIndexKey: the list is static for a given plan
              <li key={index}>{reason}</li>
            ))}
          </ul>
        )}
      </div>
    </div>
  );
}
