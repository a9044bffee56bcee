// The failure banner's link target (#18): the first line of the log that reads as an error, else the platform's
// "==> Failed:" line; and the split the log view highlights it with.
import { describe, expect, it } from "vitest";
import { firstErrorLine, splitAtLine } from "@/components/apps/log-error-line";

describe("firstErrorLine", () => {
  it("finds pip's error in a failing RUN step, before podman's own summary and the platform's", () => {
    const log = [
      "==> Unpacking the uploaded tarball",
      "STEP 3/5: RUN pip install -r requirements.txt",
      "Collecting nosuchpackage==9",
      "ERROR: No matching distribution found for nosuchpackage==9",
      'Error: building at STEP "RUN pip install": exit status 1',
      "==> Failed: The image build failed. The end of the build log:",
    ].join("\n");
    expect(firstErrorLine(log)).toBe(3);
  });

  it("finds a crash's traceback, and a plan failure by the platform's line when nothing else reads as an error", () => {
    expect(firstErrorLine("==> Starting 1 container\nTraceback (most recent call last):\n  File x")).toBe(1);
    expect(firstErrorLine("==> Build plan\n==> Failed: No build plan: add a requirements.txt")).toBe(1);
    expect(firstErrorLine("ModuleNotFoundError: No module named 'flask'")).toBe(0);
    expect(firstErrorLine("==> Built\n==> Deployment #2 is live")).toBeNull();
  });

  it("splits a log around one line, and says when the line is not there", () => {
    expect(splitAtLine("a\nb\nc", 1)).toEqual(["a\n", "b", "\nc"]);
    expect(splitAtLine("a\nb", 0)).toEqual(["", "a", "\nb"]);
    expect(splitAtLine("a", 3)).toBeNull();
  });
});
