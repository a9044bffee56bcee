// The Containerfile build policy against a hostile corpus (each file must be refused at the right line and
// instruction) and benign files (real-world Python Dockerfiles and the platform's own generated Containerfile).
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { renderContainerfile } from "@/lib/build/containerfile";
import type { BuildPlan } from "@/lib/build/plan";
import { checkContainerfile, describeViolations } from "./index";

const OPTIONS = { baseImages: ["docker.io/library/python:{version}-slim", "localhost/tussilago-python:{version}"] };
const TSL = "tsl-0123456789abcdef0123456789abcdef";
const HEX64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

type Hostile = { name: string; text: string; line: number; instruction: string };

// Each entry: the file, and the first violation expected (line, instruction).
const HOSTILE: Hostile[] = [
  {
    name: "ADD http loopback",
    text: "FROM python:3.12\nADD http://127.0.0.1:2019/config/ /x\n",
    line: 2,
    instruction: "ADD",
  },
  { name: "ADD https", text: "FROM python:3.12\nADD https://example.com/a.tgz /a\n", line: 2, instruction: "ADD" },
  { name: "ADD ftp", text: "FROM python:3.12\nADD ftp://10.0.0.1/f /f\n", line: 2, instruction: "ADD" },
  {
    name: "ADD metadata",
    text: "FROM python:3.12\nADD http://169.254.169.254/latest/ /m\n",
    line: 2,
    instruction: "ADD",
  },
  { name: "ADD git@", text: "FROM python:3.12\nADD git@github.com:acme/x.git /src\n", line: 2, instruction: "ADD" },
  { name: "ADD github.com/", text: "FROM python:3.12\nADD github.com/acme/x /src\n", line: 2, instruction: "ADD" },
  { name: "ADD .git#ref", text: "FROM python:3.12\nADD example.org/r.git#main /src\n", line: 2, instruction: "ADD" },
  { name: "lowercase add", text: "from python:3.12\nadd http://127.0.0.1/ /x\n", line: 2, instruction: "ADD" },
  { name: "ADD JSON form", text: 'FROM python:3.12\nADD ["http://127.0.0.1/", "/x"]\n', line: 2, instruction: "ADD" },
  {
    name: "ADD URL on a continuation line with a comment between",
    text: "FROM python:3.12\nADD \\\n# innocent\n\n    http://127.0.0.1:3000/ /x\n",
    line: 2,
    instruction: "ADD",
  },
  {
    name: "ADD URL with the backtick escape",
    text: "# escape=`\nFROM python:3.12\nADD `\n  http://127.0.0.1/ /x\n",
    line: 3,
    instruction: "ADD",
  },
  {
    name: "ADD --keep-git-dir",
    text: "FROM python:3.12\nADD --keep-git-dir=true src /src\n",
    line: 2,
    instruction: "ADD",
  },
  { name: "ADD --checksum", text: "FROM python:3.12\nADD --checksum=sha256:abc f /f\n", line: 2, instruction: "ADD" },
  {
    name: "ADD URL via ARG",
    text: "FROM python:3.12\nARG U=http://127.0.0.1/\nADD $U /x\n",
    line: 3,
    instruction: "ADD",
  },
  { name: "ADD --from", text: "FROM python:3.12\nADD --from=localhost/x /a /b\n", line: 2, instruction: "ADD" },
  {
    name: "RUN --mount cache with a host id",
    text: "FROM python:3.12\nRUN --mount=type=cache,target=/c,id=../../../etc/x true\n",
    line: 2,
    instruction: "RUN",
  },
  { name: "RUN --network=host", text: "FROM python:3.12\nRUN --network=host curl x\n", line: 2, instruction: "RUN" },
  {
    name: "RUN --security=insecure",
    text: "FROM python:3.12\nRUN --security=insecure id\n",
    line: 2,
    instruction: "RUN",
  },
  {
    name: "RUN mount and network combined, tab-separated",
    text: "FROM python:3.12\nRUN\t--network=none\t--mount=type=bind,source=/,target=/h cat /h/etc/shadow\n",
    line: 2,
    instruction: "RUN",
  },
  {
    name: "RUN --MOUNT uppercase",
    text: "FROM python:3.12\nrun --MOUNT=type=bind,target=/h ls\n",
    line: 2,
    instruction: "RUN",
  },
  {
    name: "RUN flag after a continuation and a comment",
    text: "FROM python:3.12\nRUN \\\n  # hidden\n  --mount=type=cache,target=/c echo\n",
    line: 2,
    instruction: "RUN",
  },
  {
    name: "RUN --mount in JSON form",
    text: 'FROM python:3.12\nRUN --mount=type=bind,source=/,target=/h ["cat", "/h/etc/shadow"]\n',
    line: 2,
    instruction: "RUN",
  },
  {
    name: "RUN --mount with the backtick escape and CRLF",
    text: "# escape=`\r\nFROM python:3.12\r\nRUN `\r\n --mount=type=cache,target=/c,id=/etc echo\r\n",
    line: 3,
    instruction: "RUN",
  },
  {
    name: "BOM before RUN --mount",
    text: "\uFEFFFROM python:3.12\nRUN --mount=type=tmpfs,target=/t x\n",
    line: 2,
    instruction: "RUN",
  },
  {
    name: "heredoc",
    text: "FROM python:3.12\nRUN <<EOF\nADD http://127.0.0.1/ /x\nEOF\n",
    line: 2,
    instruction: "RUN",
  },
  { name: "heredoc in COPY", text: "FROM python:3.12\nCOPY <<-'EOT' /x\nhi\nEOT\n", line: 2, instruction: "COPY" },
  { name: "FROM another team's image", text: `FROM localhost/${TSL}:3\n`, line: 1, instruction: "FROM" },
  { name: "FROM a short tsl- name", text: `FROM ${TSL}:3\n`, line: 1, instruction: "FROM" },
  { name: "FROM tsl- with a registry", text: `FROM docker.io/acme/${TSL}:1\n`, line: 1, instruction: "FROM" },
  { name: "FROM an operator's local image", text: "FROM localhost/secret-tool:latest\n", line: 1, instruction: "FROM" },
  { name: "FROM localhost registry port", text: "FROM localhost:5000/x\n", line: 1, instruction: "FROM" },
  { name: "FROM an image ID", text: `FROM ${HEX64}\n`, line: 1, instruction: "FROM" },
  { name: "FROM a short image ID", text: "FROM 0123456789ab\n", line: 1, instruction: "FROM" },
  { name: "FROM sha256:", text: `FROM sha256:${HEX64}\n`, line: 1, instruction: "FROM" },
  { name: "FROM a loopback registry", text: "FROM 127.0.0.1:5000/img:1\n", line: 1, instruction: "FROM" },
  { name: "FROM via ARG default", text: `ARG B=localhost/${TSL}:1\nFROM $B\n`, line: 2, instruction: "FROM" },
  {
    name: "FROM via chained ARGs",
    text: `ARG A=localhost\nARG B=\${A}/${TSL}:1\nFROM \${B}\n`,
    line: 3,
    instruction: "FROM",
  },
  { name: "FROM an ARG without default", text: "ARG IMAGE\nFROM $IMAGE\n", line: 2, instruction: "FROM" },
  {
    name: "FROM an ARG with a modifier",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Containerfile variable, not a template
    text: "ARG I=python\nFROM ${I:-localhost/x}\n",
    line: 2,
    instruction: "FROM",
  },
  {
    name: "FROM an ARG declared in a stage",
    text: "FROM python:3.12\nARG X=localhost/y\nFROM $X\n",
    line: 3,
    instruction: "FROM",
  },
  {
    name: "COPY --from another team's image",
    text: `FROM python:3.12\nCOPY --from=localhost/${TSL}:2 /app /stolen\n`,
    line: 2,
    instruction: "COPY",
  },
  {
    name: "COPY --from an image ID",
    text: `FROM python:3.12\nCOPY --from=${HEX64} / /x\n`,
    line: 2,
    instruction: "COPY",
  },
  {
    name: "COPY --from a later stage index",
    text: "FROM python:3.12\nCOPY --from=1 / /x\nFROM python:3.12\n",
    line: 2,
    instruction: "COPY",
  },
  {
    name: "syntax directive",
    text: "# syntax=docker/dockerfile:1\nFROM python:3.12\n",
    line: 1,
    instruction: "# directive",
  },
  {
    name: "syntax directive with case and spacing",
    text: "#  SynTax = evil/frontend\nFROM python:3.12\n",
    line: 1,
    instruction: "# directive",
  },
  {
    name: "syntax after an escape directive",
    text: "# escape=`\n# syntax=x/y\nFROM python:3.12\n",
    line: 2,
    instruction: "# directive",
  },
  {
    name: "two escape directives",
    text: "# escape=`\n# escape=\\\nFROM python:3.12\n",
    line: 2,
    instruction: "# directive",
  },
  {
    name: "ONBUILD ADD URL",
    text: "FROM python:3.12\nONBUILD ADD http://127.0.0.1/ /x\n",
    line: 2,
    instruction: "ONBUILD ADD",
  },
  {
    name: "lowercase onbuild run --mount",
    text: "FROM python:3.12\nonbuild run --mount=type=cache,target=/c x\n",
    line: 2,
    instruction: "ONBUILD RUN",
  },
  {
    name: "ONBUILD COPY --from",
    text: "FROM python:3.12 AS a\nONBUILD COPY --from=a / /x\n",
    line: 2,
    instruction: "ONBUILD COPY",
  },
  { name: "no FROM at all", text: "RUN id\n", line: 1, instruction: "FROM" },
];

function firstViolation(text: string) {
  return checkContainerfile(text, OPTIONS).violations[0];
}

describe("Containerfile policy: hostile corpus", () => {
  it("has at least 30 hostile files", () => {
    expect(HOSTILE.length).toBeGreaterThanOrEqual(30);
  });

  for (const sample of HOSTILE) {
    it(`refuses: ${sample.name}`, () => {
      const violation = firstViolation(sample.text);
      expect(violation).toMatchObject({ line: sample.line, instruction: sample.instruction });
    });
  }

  it("names the file, the line and the instruction in the user-facing message", () => {
    const { violations } = checkContainerfile("FROM python:3.12\n\nADD http://127.0.0.1:9/ /x\n", OPTIONS);
    const message = describeViolations("Containerfile", violations);
    expect(message).toContain("Containerfile line 3: ADD:");
    expect(message).not.toContain("127.0.0.1");
  });
});

const BENIGN_DIR = path.join(import.meta.dirname, "corpus", "benign");

describe("Containerfile policy: benign files", () => {
  for (const file of fs.readdirSync(BENIGN_DIR).sort()) {
    it(`allows ${file}`, () => {
      const text = fs.readFileSync(path.join(BENIGN_DIR, file), "utf8");
      expect(checkContainerfile(text, OPTIONS).violations).toEqual([]);
    });
  }

  it("allows the configured base image, local or not, for any Python version", () => {
    for (const text of [
      "FROM localhost/tussilago-python:3.13\n",
      "FROM docker.io/library/python:3.9-slim\n",
      "FROM python:3.12-slim\n",
    ]) {
      expect(checkContainerfile(text, OPTIONS).violations).toEqual([]);
    }
  });

  it("reports the registry images a build starts from, resolved", () => {
    const { externalImages } = checkContainerfile(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a Containerfile variable, not a template
      "ARG V=3.12\nFROM python:${V} AS a\nFROM a\nCOPY --from=docker.io/library/busybox:1 /b /b\nFROM localhost/tussilago-python:3.12\n",
      OPTIONS,
    );
    expect(externalImages).toEqual(["python:3.12", "docker.io/library/busybox:1"]);
  });

  it("allows every Containerfile the platform generates", () => {
    const installers = ["uv", "poetry", "pipenv", "pdm", "pip", "none"] as const;
    for (const installer of installers) {
      const plan = {
        builder: "python",
        installer,
        installCommand: installer === "none" ? null : "pip install -r requirements.txt",
        processes: { web: "gunicorn app:app" },
        pythonVersion: "3.12",
      } as unknown as BuildPlan;
      const text = renderContainerfile(plan, { baseImage: "docker.io/library/python:3.12-slim", pyprojectOnly: false });
      expect(checkContainerfile(text, OPTIONS).violations).toEqual([]);
    }
  });
});
