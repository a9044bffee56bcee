// The build policy for tenants' own Containerfiles/Dockerfiles: pure (no I/O), run before podman sees the file.
// Root podman runs the build on the host, outside the tenant's network and firewall, so some instructions reach the
// host itself: `ADD <url>` fetches from the host's network namespace (loopback, Caddy's admin API, cloud metadata),
// `RUN --mount` makes root create or bind host paths (CVE-2024-9675 class), `FROM`/`COPY --from` can name any local
// image (other teams' builds). Those are refused with the line and the instruction.
//
// Parsing: `dockerfile-ast` (the parser behind the Dockerfile language server), checked against what buildah's parser
// (BuildKit's, vendored by imagebuilder) does, with these cases handled here explicitly:
// - parser directives: read a second time by ./directives.ts the way BuildKit reads them (first lines only, BOM and CR
//   stripped, case-insensitive); a file on which the two readings of the escape character differ is refused, and so is
//   any directive other than `escape` (`syntax` selects another frontend; it is refused anywhere in the file);
// - heredocs (`<<EOF`): buildah 1.28 (podman 4.3) does not support them, newer buildah does, and dockerfile-ast
//   folds their bodies into the instruction's arguments: the readings differ, so any `<<WORD` is refused;
// - JSON (exec) form: dockerfile-ast's arguments are the raw tokens (`["http://x",`); sources are checked both as raw
//   tokens stripped of JSON punctuation and as the parsed JSON strings, so either reading is covered;
// - lowercase instructions, line continuations with comments or blank lines between them, CRLF, tabs and a BOM are
//   handled by dockerfile-ast as BuildKit does (covered by the hostile corpus in ./policy.test.ts);
// - flags: any RUN flag is refused, read both from dockerfile-ast's flags and from a raw first argument starting with
//   `-`, so no spelling (`--MOUNT`, `-- mount`, `--network`, `--security`) gets through;
// - ONBUILD: each trigger is checked with the same rules (stage names of a future build are unknown, so its
//   `COPY --from` must name an allowed registry image).
// Image rules: ./images.ts.
import {
  type Add,
  type Arg,
  type Copy,
  DockerfileParser,
  type From,
  type Instruction,
  type JSONInstruction,
  type ModifiableInstruction,
  type Onbuild,
} from "dockerfile-ast";
import { scanDirectives } from "./directives";
import { checkImageReference, resolveVariables } from "./images";

export type PolicyOptions = {
  /** Configured base images (TUSSILAGO_PYTHON_IMAGE), `{version}` standing for any Python version. */
  baseImages: readonly string[];
};

export type PolicyViolation = { line: number; instruction: string; message: string };

export type PolicyResult = {
  violations: PolicyViolation[];
  /** Registry images the file builds from (FROM, COPY --from), resolved: what a pre-build check may inspect. */
  externalImages: string[];
};

const KNOWN = new Set([
  "ADD",
  "ARG",
  "CMD",
  "COPY",
  "ENTRYPOINT",
  "ENV",
  "EXPOSE",
  "FROM",
  "HEALTHCHECK",
  "LABEL",
  "MAINTAINER",
  "ONBUILD",
  "RUN",
  "SHELL",
  "STOPSIGNAL",
  "USER",
  "VOLUME",
  "WORKDIR",
]);
// Flags each instruction may carry; anything else is refused (ADD --checksum/--keep-git-dir/--from, RUN --anything).
const ALLOWED_FLAGS: Record<string, ReadonlySet<string>> = {
  ADD: new Set(["chown", "chmod"]),
  COPY: new Set(["chown", "chmod", "from", "link"]),
  FROM: new Set(["platform"]),
  HEALTHCHECK: new Set(["interval", "timeout", "start-period", "start-interval", "retries"]),
};
// A heredoc start (`<<EOF`, `<<-"EOF"`, `2<<EOF`), not a here-string (`<<<`).
const HEREDOC = /(?<!<)<<(?!<)-?\s*["']?[A-Za-z_]/;
const REMOTE_SOURCE =
  /:\/\/|^git@|^[\w.-]+@[\w.-]+:|^(?:www\.)?(?:github|gitlab|bitbucket)\.(?:com|org)\/|\.git(?:#|$)/i;

type Stage = { name: string | null; index: number };

type Scope = {
  options: PolicyOptions;
  escape: string;
  initialArgs: Map<string, string | null>;
  stages: Stage[];
  violations: PolicyViolation[];
  external: Set<string>;
};

function lineOf(instruction: Instruction): number {
  return instruction.getRange().start.line + 1;
}

function refuse(scope: Scope, at: Instruction, keyword: string, message: string): void {
  scope.violations.push({ line: lineOf(at), instruction: keyword, message });
}

function flagsOf(instruction: Instruction): { name: string; value: string | null }[] {
  const modifiable = instruction as Partial<ModifiableInstruction>;
  const flags = typeof modifiable.getFlags === "function" ? modifiable.getFlags.call(instruction) : [];
  return flags.map((flag) => ({ name: flag.getName(), value: flag.getValue() }));
}

function jsonStrings(instruction: Instruction): string[] {
  const json = instruction as Partial<JSONInstruction>;
  if (typeof json.getJSONStrings !== "function") return [];
  return json.getJSONStrings.call(instruction).map((argument) => argument.getJSONValue());
}

/** An image named by FROM or --from: an earlier stage, or a reference checked by ./images.ts. */
function checkImage(
  scope: Scope,
  at: Instruction,
  keyword: string,
  raw: string,
  options: { stageOnly?: boolean; allowStageNames: boolean },
): void {
  if (options.allowStageNames) {
    const lower = raw.toLowerCase();
    if (scope.stages.some((stage) => stage.name === lower)) return;
    if (/^\d+$/.test(raw) && Number(raw) < scope.stages.length) return;
  }
  const resolved = resolveVariables(raw, scope.initialArgs, scope.escape);
  if (resolved === null || resolved === "") {
    refuse(scope, at, keyword, "the image name uses variables that do not resolve from ARG defaults before FROM");
    return;
  }
  if (options.allowStageNames && scope.stages.some((stage) => stage.name === resolved.toLowerCase())) return;
  const verdict = checkImageReference(resolved, scope.options.baseImages);
  if (!verdict.ok) refuse(scope, at, keyword, verdict.reason);
  else if (verdict.external) scope.external.add(resolved);
}

function checkFlags(scope: Scope, at: Instruction, keyword: string): { name: string; value: string | null }[] {
  const flags = flagsOf(at);
  const allowed = ALLOWED_FLAGS[keyword] ?? new Set<string>();
  for (const flag of flags) {
    if (!allowed.has(flag.name)) {
      const shown = /^[A-Za-z-]{1,20}$/.test(flag.name) ? `--${flag.name}` : "this option";
      refuse(scope, at, keyword, `${keyword} ${shown} is not allowed`);
    }
  }
  return flags;
}

function checkAdd(scope: Scope, at: Instruction): void {
  const tokens = [
    ...at.getArguments().map((argument) => argument.getValue().replace(/^\[?"?|"?,?\]?$/g, "")),
    ...jsonStrings(at),
  ];
  if (tokens.some((token) => REMOTE_SOURCE.test(token))) {
    refuse(scope, at, "ADD", "ADD can only copy files from your source, not URLs or git repositories: download in RUN");
  } else if (tokens.some((token) => token.includes("$"))) {
    refuse(scope, at, "ADD", "ADD sources cannot use variables: name the files, or use COPY");
  }
}

/** Checks one instruction (or an ONBUILD trigger, with `inTrigger`: no stages of the future build are known). */
function checkInstruction(scope: Scope, at: Instruction, inTrigger: boolean): void {
  const keyword = at.getKeyword().toUpperCase();
  if (!KNOWN.has(keyword)) {
    refuse(scope, at, /^[A-Z]{1,20}$/.test(keyword) ? keyword : "?", "unknown instruction");
    return;
  }
  if (HEREDOC.test(at.getTextContent())) {
    refuse(scope, at, keyword, "heredocs (<<EOF) are not supported by this platform's builder: use files or RUN lines");
    return;
  }
  if (keyword === "RUN") {
    const first = at.getArguments()[0]?.getValue() ?? "";
    if (flagsOf(at).length > 0 || first.startsWith("-")) {
      refuse(scope, at, "RUN", "RUN options (--mount, --network, --security, ...) are not allowed");
    }
    return;
  }
  const flags = checkFlags(scope, at, keyword);
  if (keyword === "ADD") checkAdd(scope, at as Add);
  if (keyword === "COPY") {
    const from = flags.find((flag) => flag.name === "from");
    if (from !== undefined) {
      checkImage(scope, at as Copy, "COPY", from.value ?? "", { allowStageNames: !inTrigger });
    }
  }
  if (keyword === "ONBUILD") {
    if (inTrigger) {
      refuse(scope, at, "ONBUILD", "ONBUILD cannot be nested");
      return;
    }
    const trigger = (at as Onbuild).getTriggerInstruction();
    if (trigger === null) refuse(scope, at, "ONBUILD", "ONBUILD needs an instruction");
    else if (["FROM", "MAINTAINER"].includes(trigger.getKeyword().toUpperCase())) {
      refuse(scope, at, "ONBUILD", "this instruction cannot be an ONBUILD trigger");
    } else {
      const before = scope.violations.length;
      checkInstruction(scope, trigger, true);
      for (const violation of scope.violations.slice(before))
        violation.instruction = `ONBUILD ${violation.instruction}`;
    }
  }
}

function checkFrom(scope: Scope, at: From): void {
  checkFlags(scope, at, "FROM");
  const image = at.getImage();
  if (image === null) refuse(scope, at, "FROM", "FROM needs an image");
  else checkImage(scope, at, "FROM", image, { allowStageNames: true });
  const stage = at.getBuildStage();
  scope.stages.push({ name: stage === null ? null : stage.toLowerCase(), index: scope.stages.length });
}

/** ARGs before the first FROM, resolved in order (a default may use earlier ones); no default → unresolvable. */
function initialArgs(args: readonly Arg[], escapeChar: string): Map<string, string | null> {
  const known = new Map<string, string | null>();
  for (const arg of args) {
    for (const property of arg.getProperties()) {
      const value = property.getValue();
      known.set(property.getName(), value === null ? null : resolveVariables(value, known, escapeChar));
    }
  }
  return known;
}

export function checkContainerfile(text: string, options: PolicyOptions): PolicyResult {
  const directives = scanDirectives(text);
  const violations: PolicyViolation[] = directives.problems.map((problem) => ({
    line: problem.line,
    instruction: "# directive",
    message: problem.message,
  }));
  const dockerfile = DockerfileParser.parse(text);
  const escapeChar = dockerfile.getEscapeCharacter();
  if (escapeChar !== directives.escape) {
    violations.push({
      line: 1,
      instruction: "# escape",
      message: "the escape directive could not be read unambiguously",
    });
    return { violations, externalImages: [] };
  }
  const scope: Scope = {
    options,
    escape: escapeChar,
    initialArgs: initialArgs(dockerfile.getInitialARGs(), escapeChar),
    stages: [],
    violations,
    external: new Set(),
  };
  const instructions = dockerfile.getInstructions();
  if (!instructions.some((instruction) => instruction.getKeyword().toUpperCase() === "FROM")) {
    violations.push({ line: 1, instruction: "FROM", message: "the file has no FROM instruction" });
  }
  for (const instruction of instructions) {
    if (instruction.getKeyword().toUpperCase() === "FROM") checkFrom(scope, instruction as From);
    else checkInstruction(scope, instruction, false);
  }
  violations.sort((a, b) => a.line - b.line);
  return { violations, externalImages: [...scope.external] };
}

/** The user-facing refusal: every violation with its line and instruction, at most `limit` of them. */
export function describeViolations(file: string, violations: readonly PolicyViolation[], limit = 10): string {
  const lines = violations
    .slice(0, limit)
    .map((violation) => `  ${file} line ${violation.line}: ${violation.instruction}: ${violation.message}`);
  if (violations.length > limit) lines.push(`  ... and ${violations.length - limit} more`);
  return `${file} was refused by the build policy:\n${lines.join("\n")}`;
}
