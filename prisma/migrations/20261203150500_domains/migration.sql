-- CreateEnum
CREATE TYPE "DomainStatus" AS ENUM ('pending', 'verified');

-- CreateEnum
CREATE TYPE "DomainTlsStatus" AS ENUM ('pending', 'issued', 'failed');

-- AlterTable
ALTER TABLE "InstanceQuota" ADD COLUMN     "domains" INTEGER;

-- AlterTable
ALTER TABLE "TeamQuota" ADD COLUMN     "domains" INTEGER;

-- CreateTable
CREATE TABLE "Domain" (
    "id" UUID NOT NULL,
    "teamId" UUID NOT NULL,
    "appId" UUID NOT NULL,
    "hostname" TEXT NOT NULL,
    "status" "DomainStatus" NOT NULL DEFAULT 'pending',
    "verificationToken" TEXT NOT NULL,
    "verifiedAt" TIMESTAMPTZ(3),
    "verifiedBy" TEXT,
    "lastCheckedAt" TIMESTAMPTZ(3),
    "proofMissingSince" TIMESTAMPTZ(3),
    "checkError" TEXT,
    "tlsStatus" "DomainTlsStatus" NOT NULL DEFAULT 'pending',
    "tlsIssuer" TEXT,
    "tlsExpiresAt" TIMESTAMPTZ(3),
    "tlsError" TEXT,
    "tlsCheckedAt" TIMESTAMPTZ(3),
    "redirectHttps" BOOLEAN NOT NULL DEFAULT true,
    "hsts" BOOLEAN NOT NULL DEFAULT false,
    "createdBy" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Domain_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Domain_hostname_key" ON "Domain"("hostname");

-- CreateIndex
CREATE INDEX "Domain_appId_createdAt_id_idx" ON "Domain"("appId", "createdAt", "id");

-- CreateIndex
CREATE INDEX "Domain_teamId_idx" ON "Domain"("teamId");

-- CreateIndex
CREATE INDEX "Domain_status_lastCheckedAt_idx" ON "Domain"("status", "lastCheckedAt");

-- AddForeignKey
ALTER TABLE "Domain" ADD CONSTRAINT "Domain_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "Team"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Domain" ADD CONSTRAINT "Domain_appId_fkey" FOREIGN KEY ("appId") REFERENCES "App"("id") ON DELETE CASCADE ON UPDATE CASCADE;
