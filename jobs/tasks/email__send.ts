// Sends one queued email through SMTP_URL with nodemailer, then wipes its body.
import nodemailer from "nodemailer";
import { catalog } from "@/jobs/catalog";
import { defineTask } from "@/jobs/define";
import { decryptSecret } from "@/lib/crypto";
import { getEnv } from "@/lib/env";
import { AppError } from "@/lib/errors";

export const emailSend = defineTask(catalog.email__send, {
  async run({ emailId }, { db, log }) {
    const email = await db.outboundEmail.findUnique({ where: { id: emailId } });
    if (!email || email.sentAt) return;
    const smtp = getEnv().smtp;
    if (!smtp) throw new AppError("unavailable", "Email is not configured on this instance (SMTP_URL).");
    const transport = nodemailer.createTransport(smtp.url);
    try {
      await transport.sendMail({
        from: smtp.from,
        to: email.to,
        subject: email.subject,
        text: decryptSecret(email.bodyEncrypted),
      });
    } finally {
      transport.close();
    }
    await db.outboundEmail.update({ where: { id: emailId }, data: { sentAt: new Date(), bodyEncrypted: "" } });
    log.info({ emailId }, "email sent");
  },
});
