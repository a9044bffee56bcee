/**
 * Python version handling for build plans: the plan pins a "3.N" minor series (the build picks the newest patch
 * of that series), so everything here reasons about minor series, not exact releases.
 */

/**
 * Minor series considered when `requires-python` rules out the configured default. Older series are end of life
 * and newer ones do not exist yet; the default itself is always a candidate too.
 */
export const PYTHON_MINOR_CANDIDATES: readonly string[] = ["3.9", "3.10", "3.11", "3.12", "3.13", "3.14"];

const MINOR_PATTERN = /^3\.(0|[1-9]\d?)$/;
const RELEASE_PATTERN = /^3\.(0|[1-9]\d?)(?:\.(0|[1-9]\d{0,2}))?$/;

/** True for a "3.N" minor series string, the only shape a plan carries. */
export function isMinorVersion(value: string): boolean {
  return MINOR_PATTERN.test(value);
}

/** "3.12" or "3.12.4" → "3.12"; anything else (pypy3.10, 2.7, system, 3.12-dev) → null. */
export function toMinorVersion(value: string): string | null {
  const match = RELEASE_PATTERN.exec(value.trim());
  return match ? `3.${match[1]}` : null;
}

function minorOf(version: string): number {
  return Number(version.split(".")[1]);
}

export type Operator = "==" | "!=" | ">=" | "<=" | ">" | "<" | "~=" | "===";

/** One clause of a version specifier, release-only (no pre/post/dev/local segments). */
export type Clause = { op: Operator; release: number[]; wildcard: boolean };

const CLAUSE_PATTERN = /^(===|==|!=|>=|<=|~=|>|<)\s*v?(\d+(?:\.\d+)*)(\.\*)?$/;

function parseRelease(text: string): number[] | null {
  const parts = text.split(".").map((part) => Number(part));
  return parts.every((part) => Number.isSafeInteger(part)) ? parts : null;
}

function parseClause(text: string): Clause | null {
  const match = CLAUSE_PATTERN.exec(text.trim());
  if (!match) return null;
  const op = match[1] as Operator;
  const release = parseRelease(match[2] ?? "");
  const wildcard = match[3] !== undefined;
  if (!release) return null;
  if (wildcard && op !== "==" && op !== "!=") return null;
  if (op === "~=" && release.length < 2) return null;
  return { op, release, wildcard };
}

/**
 * PEP 440 specifier set as used by `requires-python`: comma-separated clauses with ==, !=, >=, <=, >, <, ~=, ===
 * and `.*` wildcards on == / !=. Returns null for anything it does not understand (pre-releases, markers, ...)
 * rather than guessing.
 */
export function parseSpecifierSet(spec: string): Clause[] | null {
  const trimmed = spec.trim();
  if (trimmed === "") return [];
  const clauses: Clause[] = [];
  for (const part of trimmed.split(",")) {
    const clause = parseClause(part);
    if (!clause) return null;
    clauses.push(clause);
  }
  return clauses;
}

/**
 * Poetry's constraint syntax for `[tool.poetry.dependencies] python`: `^3.10`, `~3.10`, `3.10`, `3.10.*`, `*`,
 * and PEP 440 clauses, comma-separated. `||` alternatives are not supported (null).
 */
export function parsePoetryConstraint(spec: string): Clause[] | null {
  const trimmed = spec.trim();
  if (trimmed === "" || trimmed === "*") return [];
  if (trimmed.includes("||") || trimmed.includes("|")) return null;
  const clauses: Clause[] = [];
  for (const raw of trimmed.split(",")) {
    const part = raw.trim();
    const caret = /^\^\s*(\d+(?:\.\d+)*)$/.exec(part);
    const tilde = /^~(?!=)\s*(\d+(?:\.\d+)*)$/.exec(part);
    const bare = /^(\d+(?:\.\d+)*)(\.\*)?$/.exec(part);
    if (caret) {
      const release = parseRelease(caret[1] ?? "");
      if (!release) return null;
      // ^X.Y.Z allows changes that do not modify the left-most non-zero component.
      const pivot = Math.max(
        0,
        release.findIndex((part) => part !== 0),
      );
      const upper = release.slice(0, pivot + 1);
      upper[pivot] = (upper[pivot] ?? 0) + 1;
      clauses.push({ op: ">=", release, wildcard: false }, { op: "<", release: upper, wildcard: false });
    } else if (tilde) {
      const release = parseRelease(tilde[1] ?? "");
      if (!release) return null;
      // ~X.Y[.Z] allows patch-level changes; ~X allows minor-level changes.
      const keep = release.length === 1 ? 1 : 2;
      const upper = release.slice(0, keep);
      upper[keep - 1] = (upper[keep - 1] ?? 0) + 1;
      clauses.push({ op: ">=", release, wildcard: false }, { op: "<", release: upper, wildcard: false });
    } else if (bare) {
      const release = parseRelease(bare[1] ?? "");
      if (!release) return null;
      clauses.push({ op: "==", release, wildcard: bare[2] !== undefined });
    } else {
      const clause = parseClause(part);
      if (!clause) return null;
      clauses.push(clause);
    }
  }
  return clauses;
}

function compare(a: number[], b: number[]): number {
  const length = Math.max(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const diff = (a[i] ?? 0) - (b[i] ?? 0);
    if (diff !== 0) return diff < 0 ? -1 : 1;
  }
  return 0;
}

function hasPrefix(version: number[], prefix: number[]): boolean {
  return prefix.every((part, index) => (version[index] ?? 0) === part);
}

function matches(version: number[], clause: Clause): boolean {
  const { op, release, wildcard } = clause;
  switch (op) {
    case "==":
    case "===":
      return wildcard ? hasPrefix(version, release) : compare(version, release) === 0;
    case "!=":
      return wildcard ? !hasPrefix(version, release) : compare(version, release) !== 0;
    case ">=":
      return compare(version, release) >= 0;
    case "<=":
      return compare(version, release) <= 0;
    case ">":
      return compare(version, release) > 0;
    case "<":
      return compare(version, release) < 0;
    case "~=":
      return compare(version, release) >= 0 && hasPrefix(version, release.slice(0, -1));
  }
}

/**
 * Whether some release of the 3.N series satisfies every clause. Each clause flips at most around its own patch
 * number, so testing 0, each clause's patch ±1 and a very large patch covers every case exactly.
 */
export function seriesSatisfies(minorVersion: string, clauses: Clause[]): boolean {
  const minor = minorOf(minorVersion);
  const patches = new Set<number>([0, 1_000_000]);
  for (const clause of clauses) {
    const patch = clause.release[2];
    if (patch !== undefined) for (const p of [patch - 1, patch, patch + 1]) if (p >= 0) patches.add(p);
  }
  return [...patches].some((patch) => clauses.every((clause) => matches([3, minor, patch], clause)));
}

/** The default when it satisfies the clauses, else the lowest satisfying candidate series, else null. */
export function resolveMinorVersion(
  clauses: Clause[],
  defaultVersion: string,
  candidates: readonly string[] = PYTHON_MINOR_CANDIDATES,
): string | null {
  if (seriesSatisfies(defaultVersion, clauses)) return defaultVersion;
  const ordered = [...new Set([...candidates, defaultVersion])].sort((a, b) => minorOf(a) - minorOf(b));
  return ordered.find((candidate) => seriesSatisfies(candidate, clauses)) ?? null;
}
