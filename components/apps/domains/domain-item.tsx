"use client";

// One custom domain on the Domains tab: its statuses, why the last check or the certificate failed, the DNS records
// to create while it is not (or no longer) proven, and, for roles that may change it, check now, the HTTPS settings
// and remove (which asks first).
import { ActionButton } from "@/components/action-button";
import { DnsRecords } from "@/components/apps/domains/dns-records";
import { DomainSetting } from "@/components/apps/domains/domain-setting";
import { CertificateBadge, OwnershipBadge } from "@/components/apps/domains/domain-status";
import type { FormAction } from "@/components/form";
import { DateTime } from "@/components/ui";
import type { DomainView } from "@/lib/domain/domains";

export type DomainActions = { verify: FormAction; update: FormAction; remove: FormAction };

type DomainItemProps = {
  domain: DomainView;
  teamId: string;
  tlsEnabled: boolean;
  /** Null for roles that can only look. */
  actions: DomainActions | null;
};

export function DomainItem({ domain, teamId, tlsEnabled, actions }: DomainItemProps) {
  const fields = { teamId, appId: domain.appId, domainId: domain.id };
  const unproven = domain.status === "pending" || domain.proofMissingSince !== null;
  return (
    <li className="space-y-3 py-4 first:pt-0 last:pb-0" data-testid="domain" data-hostname={domain.hostname}>
      <div className="flex flex-wrap items-center gap-2">
        <h3 className="break-all font-mono font-semibold text-sm">{domain.hostname}</h3>
        <span data-testid="domain-status" data-status={domain.status} aria-live="polite">
          <OwnershipBadge domain={domain} />
        </span>
        <span data-testid="certificate-status" data-status={domain.tls.status} aria-live="polite">
          <CertificateBadge domain={domain} tlsEnabled={tlsEnabled} />
        </span>
      </div>
      {domain.status === "verified" && domain.verifiedAt ? (
        <p className="text-xs text-zinc-500">
          Verified <DateTime value={domain.verifiedAt} />
          {domain.verifiedBy ? ` by its ${domain.verifiedBy.toUpperCase()} record` : ""}.
        </p>
      ) : null}
      {domain.proofMissingSince ? (
        <p className="text-sm text-red-700 dark:text-red-400">
          Its DNS proof is gone; the domain stays routed, but restore one of the records below.
        </p>
      ) : null}
      {unproven && domain.checkError ? (
        <p className="text-sm" data-testid="check-error">
          <span className="text-zinc-500">
            Last check <DateTime value={domain.lastCheckedAt} />:{" "}
          </span>
          {domain.checkError}
        </p>
      ) : null}
      {tlsEnabled && domain.status === "verified" && domain.tls.status === "failed" ? (
        <p className="text-red-700 text-sm dark:text-red-400" data-testid="certificate-error">
          Certificate failed: {domain.tls.error ?? "the certificate authority refused or could not be reached."}
        </p>
      ) : null}
      {unproven ? <DnsRecords verification={domain.verification} alternatives={domain.alternatives} /> : null}
      {actions ? (
        <div className="flex flex-wrap items-start gap-x-6 gap-y-3">
          <ActionButton action={actions.verify} fields={fields} label="Check now" />
          <DomainSetting
            action={actions.update}
            fields={fields}
            setting="redirectHttps"
            label="Redirect HTTP to HTTPS"
            hint="Once its certificate is issued."
            enabled={domain.redirectHttps}
          />
          <DomainSetting
            action={actions.update}
            fields={fields}
            setting="hsts"
            label="HSTS"
            hint="Browsers then insist on HTTPS for this name."
            enabled={domain.hsts}
          />
          <ActionButton
            action={actions.remove}
            fields={fields}
            label="Remove"
            variant="danger"
            confirm={`Remove ${domain.hostname}?`}
            className="ml-auto"
          />
        </div>
      ) : (
        <p className="text-xs text-zinc-500">
          HTTP to HTTPS redirect {domain.redirectHttps ? "on" : "off"}, HSTS {domain.hsts ? "on" : "off"}.
        </p>
      )}
    </li>
  );
}
