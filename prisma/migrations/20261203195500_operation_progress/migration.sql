-- A long operation's current step, readable by people (a restore's steps, #16).
ALTER TABLE "Operation" ADD COLUMN "progress" TEXT;
