// A small SMTP catcher for tests (RFC 5321 subset: EHLO/HELO, MAIL FROM, RCPT TO, DATA, RSET, NOOP, QUIT) on
// loopback, plain text only. It advertises neither STARTTLS nor AUTH, so nodemailer with a plain
// `smtp://127.0.0.1:<port>` URL sends in the clear without trying to upgrade. Messages are parsed enough for tests:
// headers (unfolded, RFC 2047 words decoded), the text/plain body (quoted-printable or base64 decoded, also inside
// a multipart message). With `inbox: true` it also answers `GET /messages` on a small HTTP server, for tests that run
// in another process than the one that started it (Playwright specs versus its global setup).
import { randomUUID } from "node:crypto";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import net from "node:net";

export type CaughtMessage = {
  id: string;
  /** The envelope: MAIL FROM and RCPT TO addresses, as sent. */
  mailFrom: string;
  rcptTo: string[];
  /** Header names in lower case; a repeated header keeps its first value. */
  headers: Record<string, string>;
  from: string;
  to: string;
  subject: string;
  /** The decoded text/plain body ("" when the message has none). */
  text: string;
  /** The message as received, after dot-unstuffing. */
  raw: string;
  receivedAt: string;
};

export type FakeSmtp = {
  /** smtp://127.0.0.1:<port> */
  url: string;
  port: number;
  /** http://127.0.0.1:<port> answering GET /messages, when started with `inbox: true`. */
  inboxUrl: string | null;
  messages(): CaughtMessage[];
  waitForMessage(predicate: (message: CaughtMessage) => boolean, timeoutMs?: number): Promise<CaughtMessage>;
  clear(): void;
  stop(): Promise<void>;
};

export type FakeSmtpOptions = { inbox?: boolean };

const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;
const MAX_LINE_BYTES = 4096;

/** The first http(s) URL in a text, without trailing punctuation; null when there is none. */
export function firstUrl(text: string): string | null {
  const match = /https?:\/\/[^\s<>"']+/.exec(text);
  return match ? match[0].replace(/[.,;:!?)\]]+$/, "") : null;
}

function decodeQuotedPrintable(body: string): Buffer {
  const bytes: number[] = [];
  const unwrapped = body.replace(/=\r?\n/g, "");
  for (let i = 0; i < unwrapped.length; i++) {
    const char = unwrapped[i] as string;
    const hex = unwrapped.slice(i + 1, i + 3);
    if (char === "=" && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(char, "utf8"));
    }
  }
  return Buffer.from(bytes);
}

function decodeBody(body: string, encoding: string | undefined, charset: string): string {
  const label = charset.toLowerCase() === "us-ascii" ? "utf-8" : charset;
  const decoder = new TextDecoder(label);
  switch ((encoding ?? "7bit").toLowerCase()) {
    case "quoted-printable":
      return decoder.decode(decodeQuotedPrintable(body));
    case "base64":
      return decoder.decode(Buffer.from(body.replace(/\s+/g, ""), "base64"));
    default:
      return body;
  }
}

/** RFC 2047 encoded words (`=?utf-8?Q?...?=`, `=?utf-8?B?...?=`) in a header value. */
function decodeHeaderValue(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, "?==?")
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_word, charset: string, kind: string, text: string) => {
      const bytes =
        kind.toUpperCase() === "B"
          ? Buffer.from(text, "base64")
          : decodeQuotedPrintable(text.replace(/_/g, " ").replace(/=\r?\n/g, ""));
      return new TextDecoder(charset).decode(bytes);
    });
}

function splitHeaders(raw: string): { headers: Record<string, string>; body: string } {
  const end = raw.search(/\r?\n\r?\n/);
  const head = end === -1 ? raw : raw.slice(0, end);
  const body = end === -1 ? "" : raw.slice(end).replace(/^\r?\n\r?\n/, "");
  const headers: Record<string, string> = {};
  const unfolded = head.replace(/\r?\n[ \t]+/g, " ");
  for (const line of unfolded.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!(name in headers)) headers[name] = decodeHeaderValue(line.slice(colon + 1).trim());
  }
  return { headers, body };
}

function parameter(headerValue: string | undefined, name: string): string | undefined {
  const match = new RegExp(`;\\s*${name}="?([^";]+)"?`, "i").exec(headerValue ?? "");
  return match?.[1];
}

/** The text/plain content of a MIME entity, searching multipart bodies depth first. */
function textOf(headers: Record<string, string>, body: string): string {
  const type = (headers["content-type"] ?? "text/plain").toLowerCase();
  if (type.startsWith("multipart/")) {
    const boundary = parameter(headers["content-type"], "boundary");
    if (!boundary) return "";
    const parts = body.split(`--${boundary}`).slice(1);
    for (const part of parts) {
      if (part.startsWith("--")) break;
      const entity = splitHeaders(part.replace(/^\r?\n/, ""));
      const text = textOf(entity.headers, entity.body.replace(/\r?\n$/, ""));
      if (text) return text;
    }
    return "";
  }
  if (!type.startsWith("text/plain")) return "";
  return decodeBody(
    body,
    headers["content-transfer-encoding"],
    parameter(headers["content-type"], "charset") ?? "utf-8",
  );
}

export function parseMessage(raw: string, envelope: { mailFrom: string; rcptTo: string[] }): CaughtMessage {
  const { headers, body } = splitHeaders(raw);
  return {
    id: randomUUID(),
    mailFrom: envelope.mailFrom,
    rcptTo: envelope.rcptTo,
    headers,
    from: headers.from ?? "",
    to: headers.to ?? "",
    subject: headers.subject ?? "",
    text: textOf(headers, body).replace(/\r\n/g, "\n"),
    raw,
    receivedAt: new Date().toISOString(),
  };
}

function addressIn(argument: string): string | null {
  const match = /^<([^<>]*)>/.exec(argument.trim());
  return match ? (match[1] as string) : null;
}

type Session = {
  greeted: boolean;
  mailFrom: string | null;
  rcptTo: string[];
  data: string[] | null;
  dataBytes: number;
};

function handleConnection(socket: net.Socket, deliver: (message: CaughtMessage) => void): void {
  const session: Session = { greeted: false, mailFrom: null, rcptTo: [], data: null, dataBytes: 0 };
  let buffer = "";
  const reply = (line: string) => {
    if (!socket.destroyed) socket.write(`${line}\r\n`);
  };
  const resetTransaction = () => {
    session.mailFrom = null;
    session.rcptTo = [];
    session.data = null;
    session.dataBytes = 0;
  };

  const onDataLine = (line: string, data: string[]) => {
    if (line === ".") {
      const raw = data.join("\r\n");
      const envelope = { mailFrom: session.mailFrom ?? "", rcptTo: session.rcptTo };
      const tooBig = session.dataBytes > MAX_MESSAGE_BYTES;
      resetTransaction();
      if (tooBig) return reply("552 5.3.4 Message too big");
      deliver(parseMessage(raw, envelope));
      return reply("250 2.0.0 OK: queued");
    }
    // Dot-unstuffing (RFC 5321 4.5.2): a leading dot was doubled by the client.
    const content = line.startsWith(".") ? line.slice(1) : line;
    session.dataBytes += content.length + 2;
    if (session.dataBytes <= MAX_MESSAGE_BYTES) data.push(content);
  };

  const onCommand = (line: string) => {
    const [verb = "", ...rest] = line.split(" ");
    const argument = rest.join(" ");
    switch (verb.toUpperCase()) {
      case "EHLO":
        session.greeted = true;
        resetTransaction();
        // No STARTTLS, no AUTH: clients stay on plain text without credentials.
        reply("250-fake-smtp.test greets you");
        reply(`250-SIZE ${MAX_MESSAGE_BYTES}`);
        reply("250-8BITMIME");
        return reply("250 SMTPUTF8");
      case "HELO":
        session.greeted = true;
        resetTransaction();
        return reply("250 fake-smtp.test");
      case "MAIL": {
        if (!session.greeted) return reply("503 5.5.1 Say EHLO first");
        if (session.mailFrom !== null) return reply("503 5.5.1 Nested MAIL command");
        const from = /^FROM:/i.test(argument) ? addressIn(argument.slice(5)) : null;
        if (from === null) return reply("501 5.5.4 Syntax: MAIL FROM:<address>");
        session.mailFrom = from;
        return reply("250 2.1.0 OK");
      }
      case "RCPT": {
        if (session.mailFrom === null) return reply("503 5.5.1 Need MAIL first");
        const to = /^TO:/i.test(argument) ? addressIn(argument.slice(3)) : null;
        if (!to) return reply("501 5.5.4 Syntax: RCPT TO:<address>");
        session.rcptTo.push(to);
        return reply("250 2.1.5 OK");
      }
      case "DATA":
        if (session.rcptTo.length === 0) return reply("503 5.5.1 Need RCPT first");
        session.data = [];
        return reply("354 End data with <CR><LF>.<CR><LF>");
      case "RSET":
        resetTransaction();
        return reply("250 2.0.0 OK");
      case "NOOP":
        return reply("250 2.0.0 OK");
      case "QUIT":
        reply("221 2.0.0 Bye");
        socket.end();
        return;
      default:
        return reply("502 5.5.2 Command not implemented");
    }
  };

  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => {
    buffer += chunk;
    for (let end = buffer.indexOf("\n"); end !== -1; end = buffer.indexOf("\n")) {
      const line = buffer.slice(0, end).replace(/\r$/, "");
      buffer = buffer.slice(end + 1);
      if (session.data) onDataLine(line, session.data);
      else onCommand(line);
    }
    if (!session.data && buffer.length > MAX_LINE_BYTES) {
      reply("500 5.5.6 Line too long");
      socket.destroy();
    }
  });
  socket.on("error", () => socket.destroy());
  reply("220 fake-smtp.test ESMTP ready");
}

async function listen(server: net.Server | HttpServer): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (!address || typeof address !== "object") throw new Error("the fake SMTP server has no port");
  return address.port;
}

export async function startFakeSmtp(options: FakeSmtpOptions = {}): Promise<FakeSmtp> {
  const caught: CaughtMessage[] = [];
  const waiters = new Set<(message: CaughtMessage) => void>();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    handleConnection(socket, (message) => {
      caught.push(message);
      for (const waiter of [...waiters]) waiter(message);
    });
  });
  const port = await listen(server);

  let inbox: HttpServer | null = null;
  let inboxUrl: string | null = null;
  if (options.inbox) {
    inbox = createHttpServer((request, response) => {
      if (request.method === "GET" && request.url === "/messages") {
        response.writeHead(200, { "content-type": "application/json" });
        response.end(JSON.stringify(caught));
        return;
      }
      response.writeHead(404).end();
    });
    inboxUrl = `http://127.0.0.1:${await listen(inbox)}`;
  }

  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    inboxUrl,
    messages: () => [...caught],
    clear: () => {
      caught.length = 0;
    },
    waitForMessage(predicate, timeoutMs = 10_000) {
      const found = caught.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no matching message within ${timeoutMs} ms (${caught.length} caught)`));
        }, timeoutMs);
        const waiter = (message: CaughtMessage) => {
          if (!predicate(message)) return;
          clearTimeout(timer);
          waiters.delete(waiter);
          resolve(message);
        };
        waiters.add(waiter);
      });
    },
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (inbox) {
        inbox.closeAllConnections();
        await new Promise<void>((resolve) => inbox?.close(() => resolve()));
      }
    },
  };
}

/** The messages a fake SMTP server started with `inbox: true` caught, read over HTTP from another process. */
export async function fetchInbox(inboxUrl: string): Promise<CaughtMessage[]> {
  const response = await fetch(`${inboxUrl}/messages`);
  if (!response.ok) throw new Error(`the fake SMTP inbox answered ${response.status}`);
  return (await response.json()) as CaughtMessage[];
}
