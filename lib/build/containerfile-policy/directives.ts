// Parser directives (`# escape=`, `# syntax=`) read the way BuildKit's Dockerfile parser (which buildah's imagebuilder
// vendors) reads them, independently of dockerfile-ast: the policy compares both readings and refuses a file on which
// they disagree, because a different escape character changes which lines are continuations, i.e. what the build
// runs.

// BuildKit's directive pattern: `#`, optional spaces, a name, `=`, a value; names are case-insensitive.
const DIRECTIVE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;
// A `syntax` directive anywhere, in any case and spacing: refused even where BuildKit would read it as a comment
// (after the first instruction), which costs nothing and needs no agreement on where directives end.
const SYNTAX_ANYWHERE = /^[ \t]*#[ \t]*syntax[ \t]*=/im;

export type DirectiveScan = {
  escape: "\\" | "`";
  problems: { line: number; message: string }[];
};

/** The leading directives: BOM stripped, CR ignored, the scan ends at the first line that is not a directive. */
export function scanDirectives(text: string): DirectiveScan {
  const problems: DirectiveScan["problems"] = [];
  const lines = text.replace(/^\uFEFF/, "").split("\n");
  let escapeChar: DirectiveScan["escape"] = "\\";
  const seen = new Set<string>();
  for (const [index, raw] of lines.entries()) {
    const match = DIRECTIVE.exec(raw.replace(/\r$/, ""));
    if (match === null) break;
    const name = (match[1] ?? "").toLowerCase();
    const value = match[2] ?? "";
    const line = index + 1;
    if (seen.has(name)) problems.push({ line, message: `the parser directive "${name}" is given twice` });
    seen.add(name);
    if (name === "escape") {
      if (value === "\\" || value === "`") escapeChar = value;
      else problems.push({ line, message: "the escape directive must be \\ or `" });
    } else if (name === "syntax") {
      problems.push({
        line,
        message: "a syntax directive selects another build frontend, which this platform does not run: remove it",
      });
    } else {
      problems.push({ line, message: `the parser directive "${name}" is not supported: remove it` });
    }
  }
  if (!seen.has("syntax") && SYNTAX_ANYWHERE.test(text)) {
    const index = text.split("\n").findIndex((raw) => /^[ \t]*#[ \t]*syntax[ \t]*=/i.test(raw.replace(/^\uFEFF/, "")));
    problems.push({
      line: index + 1,
      message: "a syntax directive selects another build frontend, which this platform does not run: remove it",
    });
  }
  return { escape: escapeChar, problems };
}
