// The line of a deployment log that matters when it failed: the first line that reads as an error (pip's "ERROR:",
// a Python traceback, podman's "Error:", a command not found, a non-zero exit), else the platform's own
// "==> Failed:" line. The deployment page links to it from the failure banner and highlights it in the log, so a
// failing RUN step, a missing plan or a crash at start is one click from its cause. Pure, shared by server and client.

const ERROR_LINE = [
  /^\s*(?:ERROR|Error|error)(?:\[[^\]]*\])?:/,
  /^\s*Traceback \(most recent call last\):/,
  /^\s*(?:[A-Za-z_][\w.]*(?:Error|Exception)): /,
  /: (?:command not found|No such file or directory)\s*$/,
  /\b(?:exit status|exit code|exited with code) [1-9]\d*\b/,
];
const PLATFORM_FAILED = /^==> Failed: /;

/** The first error-looking line of `text` (0-based), else its "==> Failed:" line, else null. */
export function firstErrorLine(text: string): number | null {
  const lines = text.split("\n");
  const error = lines.findIndex((line) => ERROR_LINE.some((pattern) => pattern.test(line)));
  if (error >= 0) return error;
  const failed = lines.findIndex((line) => PLATFORM_FAILED.test(line));
  return failed >= 0 ? failed : null;
}

/** The text around line `index`: before it, the line itself, after it (for highlighting without splitting all). */
export function splitAtLine(text: string, index: number): [string, string, string] | null {
  let start = 0;
  for (let line = 0; line < index; line += 1) {
    const next = text.indexOf("\n", start);
    if (next < 0) return null;
    start = next + 1;
  }
  const end = text.indexOf("\n", start);
  const stop = end < 0 ? text.length : end;
  return [text.slice(0, start), text.slice(start, stop), text.slice(stop)];
}

/** The anchor of the highlighted line, for the banner's link. */
export const ERROR_LINE_ID = "log-error-line";
