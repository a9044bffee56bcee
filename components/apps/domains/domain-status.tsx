// The two statuses of a custom domain, as badges: ownership (pending, verified, proof missing since…) and the
// certificate (not yet, pending, issued by X until…, failed). One place decides the words and tones, so the page and
// its live updates agree. No hooks: usable from server and client components.
import { Badge, DateTime } from "@/components/ui";
import type { DomainView } from "@/lib/domain/domains";

export function OwnershipBadge({ domain }: { domain: DomainView }) {
  if (domain.status === "pending") return <Badge tone="amber">pending verification</Badge>;
  if (domain.proofMissingSince) {
    return (
      <Badge tone="red">
        <span>
          proof missing since <DateTime value={domain.proofMissingSince} />
        </span>
      </Badge>
    );
  }
  return <Badge tone="green">verified</Badge>;
}

/** `tlsEnabled`: the installation serves HTTPS at all (TUSSILAGO_TLS); without it no certificate is ever requested. */
export function CertificateBadge({ domain, tlsEnabled }: { domain: DomainView; tlsEnabled: boolean }) {
  if (!tlsEnabled) return <Badge>HTTPS is off on this installation</Badge>;
  if (domain.status === "pending") return <Badge>certificate once verified</Badge>;
  const { tls } = domain;
  if (tls.status === "issued") {
    return (
      <Badge tone="green">
        <span>
          certificate issued{tls.issuer ? ` by ${tls.issuer}` : ""}
          {tls.expiresAt ? (
            <>
              {" "}
              until <DateTime value={tls.expiresAt} />
            </>
          ) : null}
        </span>
      </Badge>
    );
  }
  if (tls.status === "failed") return <Badge tone="red">certificate failed</Badge>;
  return <Badge tone="amber">certificate pending</Badge>;
}

/** Something may change by itself soon (a check, a certificate): the live view polls faster meanwhile. */
export function isSettling(domain: DomainView, tlsEnabled: boolean): boolean {
  if (domain.status === "pending" || domain.proofMissingSince) return true;
  return tlsEnabled && domain.tls.status === "pending";
}
