// The build log tenants read (GET /deployments/{id}/logs): podman's output with host details scrubbed on write, and a
// size cap so a build that prints without end cannot fill the data directory.
//
// podman/buildah print host paths (the data directory, the build workspace, container storage, buildah's temporary
// directories) and, on DNS failures, the host's resolver address ("lookup pypi.org on 10.0.2.3:53"). Tenants see
// their own files relative to their source instead; the unredacted line goes to the operator's pino log.
// Scrubbing works on whole lines (output arrives in chunks that can split a path), with a bounded carry-over for
// lines that never end.

export type ScrubRule = { from: string; to: string };

export type ScrubOptions = {
  /** Host paths and what tenants see instead, e.g. the build context → ".". Longest first is applied for them. */
  paths: readonly ScrubRule[];
  /** The host's DNS resolver addresses (from /etc/resolv.conf). */
  resolvers: readonly string[];
};

const MAX_LINE_BUFFER = 64 * 1024;
// Enough to hold any path split across a forced flush of an endless line.
const CARRY_OVER = 4096;
const GENERIC: [RegExp, string][] = [
  [/\/var\/lib\/containers\/[^\s"']*/g, "<container storage>"],
  [/\/(?:var\/)?tmp\/buildah[^\s"']*/g, "<build tmp>"],
  [/\/run\/containers\/[^\s"']*/g, "<container runtime>"],
  // "lookup pypi.org on 10.0.2.3:53: ..." — Go's resolver names the server it asked.
  [/(\bon )\[?[0-9a-fA-F.:]+\]?:53\b/g, "$1<resolver>:53"],
  [/^(\s*nameserver\s+)\S+/gm, "$1<resolver>"],
];

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** A pure line scrubber for the given host details. */
export function createScrubber(options: ScrubOptions): (line: string) => string {
  const paths = [...options.paths]
    .filter((rule) => rule.from.length > 1)
    .sort((a, b) => b.from.length - a.from.length)
    .map((rule) => ({
      pattern: new RegExp(`${escapeRegExp(rule.from.replace(/\/+$/, ""))}(/?)`, "g"),
      to: rule.to,
    }));
  const resolvers = options.resolvers
    .filter((address) => address.length > 0)
    .map((address) => new RegExp(`(?<![0-9A-Za-z.:])${escapeRegExp(address)}(?![0-9A-Za-z])`, "g"));
  return (line) => {
    let text = line;
    for (const { pattern, to } of paths) {
      // "<context>/app.py" → "./app.py" when the replacement is "."; other replacements keep the slash.
      text = text.replace(pattern, (_whole, slash: string) => (to === "." ? (slash ? "./" : ".") : `${to}${slash}`));
    }
    for (const [pattern, to] of GENERIC) text = text.replace(pattern, to);
    for (const pattern of resolvers) text = text.replace(pattern, "<resolver>");
    return text;
  };
}

/** Nameserver addresses of a resolv.conf text. */
export function resolversOf(resolvConf: string): string[] {
  return [...resolvConf.matchAll(/^\s*nameserver\s+(\S+)/gm)].map((match) => match[1] ?? "").filter(Boolean);
}

export type BuildLogSink = {
  /** Raw output (any chunking): scrubbed per line, counted against the cap. */
  write(chunk: string): void;
  /** One line of the platform's own narration. */
  line(text: string): void;
  /** Writes what is still buffered (a last line without a newline). */
  flush(): void;
};

export function createBuildLogSink(options: {
  out: (text: string) => void;
  scrub: (line: string) => string;
  maxBytes: number;
  /** Called with the original of each line the scrubber changed (for the operator's log). */
  onRedacted?: (original: string) => void;
}): BuildLogSink {
  let pending = "";
  let written = 0;
  let truncated = false;

  const emit = (text: string) => {
    if (truncated) return;
    const bytes = Buffer.byteLength(text);
    if (written + bytes > options.maxBytes) {
      truncated = true;
      const mib = Math.round((options.maxBytes / 1024 ** 2) * 10) / 10;
      options.out(`\n==> The build output passed ${mib} MiB: the rest is not kept.\n`);
      return;
    }
    written += bytes;
    options.out(text);
  };
  const scrubbed = (text: string) => {
    const clean = options.scrub(text);
    if (clean !== text) options.onRedacted?.(text);
    return clean;
  };

  return {
    write(chunk) {
      pending += chunk;
      const lastNewline = pending.lastIndexOf("\n");
      if (lastNewline !== -1) {
        emit(
          pending
            .slice(0, lastNewline + 1)
            .split("\n")
            .map((line, index, all) => (index === all.length - 1 ? line : scrubbed(line)))
            .join("\n"),
        );
        pending = pending.slice(lastNewline + 1);
      }
      if (pending.length > MAX_LINE_BUFFER) {
        // An endless line: write most of it, keep a tail so a path at the cut is still seen whole next time.
        emit(scrubbed(pending.slice(0, pending.length - CARRY_OVER)));
        pending = pending.slice(pending.length - CARRY_OVER);
      }
    },
    line(text) {
      if (pending !== "") emit(`${scrubbed(pending)}\n`);
      pending = "";
      emit(`${scrubbed(text)}\n`);
    },
    flush() {
      if (pending !== "") emit(scrubbed(pending));
      pending = "";
    },
  };
}
