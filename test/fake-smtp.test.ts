import net from "node:net";
import nodemailer from "nodemailer";
import { afterEach, describe, expect, it } from "vitest";
import { type FakeSmtp, fetchInbox, firstUrl, startFakeSmtp } from "@/test/fake-smtp";

let smtp: FakeSmtp | null = null;

afterEach(async () => {
  await smtp?.stop();
  smtp = null;
});

async function send(server: FakeSmtp, message: nodemailer.SendMailOptions) {
  // The same call jobs/tasks/email__send.ts makes: a transport from the plain smtp:// URL.
  const transport = nodemailer.createTransport(server.url);
  try {
    return await transport.sendMail({ from: "Tussilago <no-reply@localhost>", ...message });
  } finally {
    transport.close();
  }
}

/** A raw SMTP conversation: sends each line after the previous reply and returns every reply line. */
async function converse(port: number, lines: string[]): Promise<string[]> {
  const socket = net.connect(port, "127.0.0.1");
  socket.setEncoding("utf8");
  const replies: string[] = [];
  let pending = "";
  let waiting: (() => void) | null = null;
  socket.on("data", (chunk: string) => {
    pending += chunk;
    // A reply is complete on a line whose code is followed by a space (multi-line replies use a dash).
    const complete = pending.split("\r\n").filter(Boolean);
    if (/^\d{3} /.test(complete.at(-1) ?? "") && pending.endsWith("\r\n")) {
      replies.push(...complete);
      pending = "";
      waiting?.();
    }
  });
  const nextReply = () => new Promise<void>((resolve) => (waiting = resolve));
  await nextReply();
  for (const line of lines) {
    socket.write(`${line}\r\n`);
    await nextReply();
  }
  socket.destroy();
  return replies;
}

describe("fake SMTP server", () => {
  it("catches what nodemailer sends, with the envelope, headers and decoded text", async () => {
    smtp = await startFakeSmtp();
    const link = `http://127.0.0.1:3000/api/auth/callback/email?callbackUrl=%2Fteams&token=${"a".repeat(64)}&email=ada%40example.test`;
    const info = await send(smtp, {
      to: "ada@example.test",
      subject: "Sign in to Tussilago",
      // A line over 76 characters and an "=": nodemailer switches to quoted-printable.
      text: `Sign in with this link (valid for 15 minutes):\n${link}\n\nIf you did not ask for it, ignore this email.`,
    });
    expect(info.accepted).toEqual(["ada@example.test"]);

    const [message] = smtp.messages();
    expect(message?.mailFrom).toBe("no-reply@localhost");
    expect(message?.rcptTo).toEqual(["ada@example.test"]);
    expect(message?.to).toBe("ada@example.test");
    expect(message?.from).toBe("Tussilago <no-reply@localhost>");
    expect(message?.subject).toBe("Sign in to Tussilago");
    expect(message?.headers["content-transfer-encoding"]).toBe("quoted-printable");
    expect(message?.text).toBe(
      `Sign in with this link (valid for 15 minutes):\n${link}\n\nIf you did not ask for it, ignore this email.`,
    );
    expect(firstUrl(message?.text ?? "")).toBe(link);
  });

  it("decodes non-ASCII subjects and bodies, undoes dot-stuffing and keeps every recipient", async () => {
    smtp = await startFakeSmtp();
    const text = "Hej Åsa!\n.a line that starts with a dot\n..and two\n.\nslut — ✓";
    await send(smtp, { to: ["åsa@example.test", "bo@example.test"], subject: "Välkommen, Åsa ✓", text });
    const [message] = smtp.messages();
    expect(message?.rcptTo).toEqual(["åsa@example.test", "bo@example.test"]);
    expect(message?.subject).toBe("Välkommen, Åsa ✓");
    expect(message?.text).toBe(text);
  });

  it("finds the text part of a multipart message and base64 bodies", async () => {
    smtp = await startFakeSmtp();
    await send(smtp, {
      to: "multi@example.test",
      subject: "Both",
      text: "Plain text, see https://example.test/path.",
      html: "<p>HTML</p>",
    });
    await send(smtp, {
      to: "b64@example.test",
      subject: "Encoded",
      text: "ÅÄÖ åäö ÅÄÖ åäö ÅÄÖ åäö",
      textEncoding: "base64",
    });
    const [multi, encoded] = smtp.messages();
    expect(multi?.headers["content-type"]).toMatch(/^multipart\/alternative/);
    expect(multi?.text).toBe("Plain text, see https://example.test/path.");
    expect(firstUrl(multi?.text ?? "")).toBe("https://example.test/path");
    expect(encoded?.headers["content-transfer-encoding"]).toBe("base64");
    expect(encoded?.text).toBe("ÅÄÖ åäö ÅÄÖ åäö ÅÄÖ åäö");
  });

  it("waits for a matching message, and fails with a clear error when none comes", async () => {
    smtp = await startFakeSmtp();
    const waiting = smtp.waitForMessage((message) => message.rcptTo.includes("later@example.test"));
    await send(smtp, { to: "other@example.test", subject: "Not this one", text: "x" });
    await send(smtp, { to: "later@example.test", subject: "This one", text: "y" });
    expect((await waiting).subject).toBe("This one");
    // Already caught messages match at once.
    expect((await smtp.waitForMessage((message) => message.subject === "Not this one")).rcptTo).toEqual([
      "other@example.test",
    ]);
    await expect(smtp.waitForMessage((message) => message.subject === "never", 50)).rejects.toThrow(
      /no matching message within 50 ms \(2 caught\)/,
    );
    smtp.clear();
    expect(smtp.messages()).toEqual([]);
  });

  it("speaks the protocol: greeting, EHLO without STARTTLS or AUTH, ordering errors, RSET, NOOP, QUIT", async () => {
    smtp = await startFakeSmtp();
    const replies = await converse(smtp.port, [
      "MAIL FROM:<early@example.test>",
      "EHLO client.test",
      "RCPT TO:<nobody@example.test>",
      "MAIL FROM:<a@example.test>",
      "DATA",
      "RCPT TO:<b@example.test>",
      "RSET",
      "DATA",
      "NOOP",
      "VRFY b",
      "HELO client.test",
      "MAIL FROM:<a@example.test> BODY=8BITMIME",
      "RCPT TO:<b@example.test>",
      "DATA",
      "Subject: raw\r\n\r\n..dotted\r\n.",
      "QUIT",
    ]);
    const codes = replies.map((line) => line.slice(0, 3));
    expect(replies[0]).toMatch(/^220 /);
    expect(replies.join("\n")).not.toMatch(/STARTTLS|AUTH/);
    expect(codes).toEqual([
      "220",
      "503", // MAIL before EHLO
      "250",
      "250",
      "250",
      "250", // EHLO: four lines
      "503", // RCPT before MAIL
      "250", // MAIL
      "503", // DATA before RCPT
      "250", // RCPT
      "250", // RSET
      "503", // DATA: RSET forgot the recipients
      "250", // NOOP
      "502", // VRFY
      "250", // HELO
      "250",
      "250",
      "354",
      "250",
      "221",
    ]);
    const [message] = smtp.messages();
    expect(message?.mailFrom).toBe("a@example.test");
    expect(message?.subject).toBe("raw");
    expect(message?.text).toBe(".dotted");
  });

  it("lists the caught messages over HTTP when started with an inbox", async () => {
    smtp = await startFakeSmtp({ inbox: true });
    expect(smtp.inboxUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await send(smtp, { to: "inbox@example.test", subject: "Over HTTP", text: "hello" });
    const inbox = await fetchInbox(smtp.inboxUrl ?? "");
    expect(inbox.map((message) => [message.rcptTo, message.subject, message.text])).toEqual([
      [["inbox@example.test"], "Over HTTP", "hello"],
    ]);
  });
});
