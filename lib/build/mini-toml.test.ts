import { describe, expect, it } from "vitest";
import { parseToml, TomlError, tomlGet } from "./mini-toml";

describe("parseToml", () => {
  it.each([
    ["bare key", 'name = "x"', ["name"], "x"],
    ["literal string", "path = 'C:\\dir'", ["path"], "C:\\dir"],
    ["escapes", 'v = "a\\tb\\u00e9\\"q"', ["v"], 'a\tbé"q'],
    ["table header", '[project]\nrequires-python = ">=3.10"', ["project", "requires-python"], ">=3.10"],
    [
      "dotted table header",
      '[tool.poetry.dependencies]\npython = "^3.11"',
      ["tool", "poetry", "dependencies", "python"],
      "^3.11",
    ],
    ["dotted key", 'project.requires-python = ">=3.9"', ["project", "requires-python"], ">=3.9"],
    ["quoted key", '[project]\n"requires-python" = ">=3.9"', ["project", "requires-python"], ">=3.9"],
    [
      "multi-line array",
      '[project]\ndependencies = [\n  "flask", # web\n  "gunicorn",\n]',
      ["project", "dependencies"],
      ["flask", "gunicorn"],
    ],
    [
      "inline table",
      '[packages]\nuvicorn = {extras = ["standard"], version = "*"}',
      ["packages", "uvicorn", "version"],
      "*",
    ],
    ["multi-line basic string", 'd = """\nline\n[fake]\n"""', ["d"], "line\n[fake]\n"],
    ["multi-line string ending in quotes", 'd = """say "hi""""', ["d"], 'say "hi"'],
    ["multi-line literal string", "d = '''\nraw \\n'''", ["d"], "raw \\n"],
    ["line-ending backslash", 'd = """a \\\n    b"""', ["d"], "a b"],
    ["integers and booleans", "n = 1_000\nb = true", ["n"], 1000],
    ["date-time kept raw", "t = 1979-05-27 07:32:00Z", ["t"], "1979-05-27 07:32:00Z"],
    ["comments and CRLF", "# top\r\n[a] # c\r\nb = 'x' # d\r\n", ["a", "b"], "x"],
    ["byte-order mark", "\uFEFFa = 1", ["a"], 1],
  ])("%s", (_label, text, keys, expected) => {
    expect(tomlGet(parseToml(text), keys)).toEqual(expected);
  });

  it("keeps every [[package]] entry", () => {
    const doc = parseToml('version = 1\n[[package]]\nname = "a"\n[package.metadata]\nx = 1\n[[package]]\nname = "b"\n');
    const packages = tomlGet(doc, ["package"]);
    expect(Array.isArray(packages) && packages.map((entry) => tomlGet({ entry }, ["entry", "name"]))).toEqual([
      "a",
      "b",
    ]);
    expect(tomlGet(doc, ["version"])).toBe(1);
  });

  it("treats __proto__ as an ordinary key", () => {
    const doc = parseToml('[__proto__]\npolluted = "yes"');
    expect(tomlGet(doc, ["__proto__", "polluted"])).toBe("yes");
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ["unterminated string", 'a = "x'],
    ["missing value", "a = "],
    ["missing =", "a 1"],
    ["unclosed header", "[project\nname = 1"],
    ["garbage after value", 'a = "x" y'],
    ["deep nesting", `a = ${"[".repeat(100)}${"]".repeat(100)}`],
    ["key through a scalar", "a = 1\na.b = 2"],
  ])("rejects %s with a line number", (_label, text) => {
    expect(() => parseToml(text)).toThrow(TomlError);
    expect(() => parseToml(text)).toThrow(/^line \d+: /);
  });
});
