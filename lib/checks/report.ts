// The shape of a host check report (`manage check`, the host page, the platform__check job). A leaf: the checks
// (check.ts, tenant-check.ts) and the domain's host page (lib/domain/host-checks.ts) share it without importing
// each other.
export type CheckStatus = "ok" | "warn" | "error";
export type CheckResult = { name: string; status: CheckStatus; message: string };
export type CheckSection = { name: string; checks: CheckResult[] };
export type CheckReport = { ok: boolean; sections: CheckSection[] };
