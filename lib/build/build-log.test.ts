// Build log scrubbing (host paths, resolver addresses) and the size cap, with output split into arbitrary chunks.
import { describe, expect, it } from "vitest";
import { createBuildLogSink, createScrubber, resolversOf } from "./build-log";

const DATA = "/var/lib/tussilago";
const WORKSPACE = `${DATA}/builds/5b0c7c38-7d7e-4bb4-9d8b-0e7c2d0a6f11`;
const CONTEXT = `${WORKSPACE}/source`;

const scrub = createScrubber({
  paths: [
    { from: CONTEXT, to: "." },
    { from: WORKSPACE, to: "<build>" },
    { from: DATA, to: "<data>" },
  ],
  resolvers: resolversOf("# generated\nnameserver 10.0.2.3\nnameserver fd00::1\nsearch lan\n"),
});

function sinkOf(maxBytes = 1024 * 1024) {
  let text = "";
  const redacted: string[] = [];
  const sink = createBuildLogSink({ out: (t) => (text += t), scrub, maxBytes, onRedacted: (l) => redacted.push(l) });
  return { sink, text: () => text, redacted };
}

describe("build log scrubbing", () => {
  it("shows the tenant's files relative to their source and hides other host paths", () => {
    expect(scrub(`COPY failed: stat ${CONTEXT}/app.py: no such file`)).toBe("COPY failed: stat ./app.py: no such file");
    expect(scrub(`reading ${WORKSPACE}/Containerfile`)).toBe("reading <build>/Containerfile");
    expect(scrub(`open ${DATA}/secrets/x`)).toBe("open <data>/secrets/x");
    expect(scrub("at /var/lib/containers/storage/overlay/abc/diff and /var/tmp/buildah123/run")).toBe(
      "at <container storage> and <build tmp>",
    );
  });

  it("hides the host's resolver addresses", () => {
    expect(scrub("dial tcp: lookup pypi.org on 10.0.2.3:53: no such host")).toBe(
      "dial tcp: lookup pypi.org on <resolver>:53: no such host",
    );
    expect(scrub("lookup x on 192.168.1.1:53: timeout")).toBe("lookup x on <resolver>:53: timeout");
    expect(scrub("nameserver 10.0.2.3")).toBe("nameserver <resolver>");
    expect(scrub("resolver fd00::1 refused")).toBe("resolver <resolver> refused");
    // Not a resolver: another address that merely starts the same way.
    expect(scrub("10.0.2.30 answered")).toBe("10.0.2.30 answered");
  });

  it("scrubs a path split across chunks, and logs the originals for the operator", () => {
    const { sink, text, redacted } = sinkOf();
    const line = `STEP 3/5: COPY failed: ${CONTEXT}/requirements.txt missing\n`;
    for (let i = 0; i < line.length; i += 7) sink.write(line.slice(i, i + 7));
    sink.flush();
    expect(text()).toBe("STEP 3/5: COPY failed: ./requirements.txt missing\n");
    expect(redacted).toEqual([line.trimEnd()]);
  });

  it("keeps narration lines on their own line after unterminated output", () => {
    const { sink, text } = sinkOf();
    sink.write("partial");
    sink.line("==> Failed");
    expect(text()).toBe("partial\n==> Failed\n");
  });

  it("stops writing past the cap, with one line saying so", () => {
    const { sink, text } = sinkOf(100);
    for (let i = 0; i < 50; i += 1) sink.write("0123456789\n");
    sink.flush();
    expect(Buffer.byteLength(text())).toBeLessThan(200);
    expect(text()).toContain("the rest is not kept");
    expect(text().match(/the rest is not kept/g)).toHaveLength(1);
  });

  it("bounds an endless line, still scrubbing a path at the cut", () => {
    const { sink, text } = sinkOf(10 * 1024 * 1024);
    sink.write("x".repeat(64 * 1024 - 10));
    sink.write(`${CONTEXT}/a.py`);
    sink.write("y".repeat(10_000));
    sink.flush();
    expect(text()).not.toContain(DATA);
    expect(text()).toContain("./a.py");
  });
});
