// Outgoing mail is queued in the caller's transaction and sent by the worker (email__send). The body may hold a
// secret link, so it is stored encrypted and wiped once sent.
import { enqueue } from "@/jobs/enqueue";
import { encryptSecret } from "@/lib/crypto";
import type { Tx } from "@/lib/db";

export type EmailMessage = { to: string; subject: string; text: string };

export async function queueEmail(tx: Tx, message: EmailMessage): Promise<void> {
  const email = await tx.outboundEmail.create({
    data: { to: message.to, subject: message.subject, bodyEncrypted: encryptSecret(message.text) },
  });
  await enqueue(tx, "email__send", { emailId: email.id });
}
