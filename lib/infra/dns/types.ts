// The pure face of the DNS adapter: what an ownership check answers. The domain imports these types to record a
// check's outcome without importing the resolver (lib/domain does no I/O).

/** How a check proved control of a hostname: the TXT record, an A/AAAA record to this installation, or a CNAME. */
export type ProofMethod = "txt" | "a" | "cname";

export type ProofOutcome =
  | { kind: "proven"; by: ProofMethod }
  /** The name servers answered, and no record proves control: `message` says what to create. */
  | { kind: "missing"; message: string }
  /**
   * The lookups failed (SERVFAIL, timeout, refused): nothing can be concluded, so a verified domain is never
   * flagged or dropped on it. `message` names no resolver address; `codes` are c-ares codes for the log.
   */
  | { kind: "dns_error"; message: string; codes: string[] };

export type ProofTarget = {
  hostname: string;
  /** The value the TXT record `_tussilago.<hostname>` must hold exactly. */
  token: string;
};

export type ProofChecker = (target: ProofTarget) => Promise<ProofOutcome>;
