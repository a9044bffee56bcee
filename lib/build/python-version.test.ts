import { describe, expect, it } from "vitest";
import { parsePoetryConstraint, parseSpecifierSet, resolveMinorVersion, toMinorVersion } from "./python-version";

describe("toMinorVersion", () => {
  it.each([
    ["3.12", "3.12"],
    ["3.12.4", "3.12"],
    [" 3.9 ", "3.9"],
    ["3.12.1rc1", null],
    ["3", null],
    ["2.7", null],
    ["pypy3.10", null],
    ["3.012", null],
  ])("%j → %j", (input, expected) => {
    expect(toMinorVersion(input)).toBe(expected);
  });
});

describe("requires-python resolution (default 3.12)", () => {
  it.each([
    [">=3.10", "3.12"],
    [">=3.13", "3.13"],
    [">3.12", "3.12"],
    [">=3.12.99", "3.12"],
    ["<3.12", "3.9"],
    ["<=3.11", "3.9"],
    [">=3.10,<3.12", "3.10"],
    ["==3.11.*", "3.11"],
    ["==3.11", "3.11"],
    ["!=3.12.*", "3.9"],
    ["~=3.10", "3.12"],
    ["~=3.11.0", "3.11"],
    ["===3.10.0", "3.10"],
    ["", "3.12"],
    ["<3.0", null],
    [">=3.15", null],
  ])("%j → %j", (spec, expected) => {
    const clauses = parseSpecifierSet(spec);
    expect(clauses).not.toBeNull();
    expect(resolveMinorVersion(clauses ?? [], "3.12")).toBe(expected);
  });

  it.each([[">=3.10rc1"], ["^3.10"], [">=3.10.*"], ["~=3"], ["python>=3"], [">=3.10; os_name=='nt'"]])(
    "does not understand %j",
    (spec) => {
      expect(parseSpecifierSet(spec)).toBeNull();
    },
  );
});

describe("poetry python constraints (default 3.12)", () => {
  it.each([
    ["^3.10", "3.12"],
    ["^3.13", "3.13"],
    ["~3.10", "3.10"],
    ["~3.11.2", "3.11"],
    ["3.11", "3.11"],
    ["3.10.*", "3.10"],
    ["*", "3.12"],
    [">=3.9,<3.11", "3.9"],
    ["~=3.13", "3.13"],
  ])("%j → %j", (spec, expected) => {
    const clauses = parsePoetryConstraint(spec);
    expect(clauses).not.toBeNull();
    expect(resolveMinorVersion(clauses ?? [], "3.12")).toBe(expected);
  });

  it("does not understand alternatives", () => {
    expect(parsePoetryConstraint("^3.9 || ^3.11")).toBeNull();
  });
});
