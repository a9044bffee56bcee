/**
 * Procfile parsing: `name: command` lines, Heroku style. Commands are the tenant's own and run inside their
 * sandbox, so they are passed through verbatim; only the shape of a line and the process name are checked.
 */

export type Procfile = {
  /** Process name → command, in file order; `release` is never in here. */
  processes: Record<string, string>;
  release: string | null;
  /** Human-readable notes about ignored or duplicated lines, for the plan's reasons. */
  notes: string[];
};

/** Lowercase so `web` is unambiguous and names are safe to reuse in container and unit names. */
const PROCESS_NAME = /^[a-z0-9][a-z0-9_-]{0,29}$/;
const LINE = /^([^:\s]+)\s*:(.*)$/;
// Control characters other than tab would end up in generated files and logs; a real command never has them.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;

function preview(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}...` : text);
}

export function parseProcfile(text: string): Procfile {
  const processes: Record<string, string> = {};
  let release: string | null = null;
  const notes: string[] = [];
  const lines = (text.startsWith("\uFEFF") ? text.slice(1) : text).split("\n");
  lines.forEach((rawLine, index) => {
    const lineNumber = index + 1;
    const line = rawLine.replace(/\r$/, "").trim();
    if (line === "" || line.startsWith("#")) return;
    const match = LINE.exec(line);
    if (!match) {
      notes.push(`Procfile line ${lineNumber} ignored: expected "name: command", got ${preview(line)}`);
      return;
    }
    const name = match[1] ?? "";
    const command = (match[2] ?? "").trim();
    if (!PROCESS_NAME.test(name)) {
      notes.push(
        `Procfile line ${lineNumber} ignored: process name ${preview(name)} must be lowercase letters, digits, - or _`,
      );
      return;
    }
    if (command === "") {
      notes.push(`Procfile line ${lineNumber} ignored: "${name}:" has no command`);
      return;
    }
    if (CONTROL.test(command)) {
      notes.push(`Procfile line ${lineNumber} ignored: the "${name}" command contains control characters`);
      return;
    }
    if (name === "release") {
      if (release !== null) notes.push(`Procfile line ${lineNumber}: "release" defined twice, the last one wins`);
      release = command;
      return;
    }
    if (Object.hasOwn(processes, name)) {
      notes.push(`Procfile line ${lineNumber}: "${name}" defined twice, the last one wins`);
    }
    processes[name] = command;
  });
  return { processes, release, notes };
}
