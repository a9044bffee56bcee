-- A plain/secret flag per env var (#18). Existing variables stay secret: nothing that was masked becomes visible.
ALTER TABLE "EnvVar" ADD COLUMN "secret" BOOLEAN NOT NULL DEFAULT true;
