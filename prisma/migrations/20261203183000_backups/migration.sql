-- CreateEnum
CREATE TYPE "BackupKind" AS ENUM ('postgres', 'redis');

-- CreateEnum
CREATE TYPE "BackupStatus" AS ENUM ('running', 'verifying', 'verified', 'succeeded', 'failed');

-- CreateEnum
CREATE TYPE "BackupTrigger" AS ENUM ('manual', 'scheduled', 'safety');

-- AlterTable
ALTER TABLE "InstanceQuota" ADD COLUMN     "backups" INTEGER;

-- AlterTable
ALTER TABLE "TeamQuota" ADD COLUMN     "backups" INTEGER;

-- AlterTable
ALTER TABLE "TenantDatabase" ADD COLUMN     "backupEnabled" BOOLEAN NOT NULL DEFAULT true,
ADD COLUMN     "backupKeepDaily" INTEGER NOT NULL DEFAULT 7,
ADD COLUMN     "backupKeepWeekly" INTEGER NOT NULL DEFAULT 4,
ADD COLUMN     "backupNextAt" TIMESTAMPTZ(3),
ADD COLUMN     "backupSchedule" TEXT;

-- CreateTable
CREATE TABLE "Backup" (
    "id" UUID NOT NULL,
    "teamId" UUID NOT NULL,
    "kind" "BackupKind" NOT NULL,
    "databaseId" UUID,
    "redisId" UUID,
    "sourceName" TEXT NOT NULL,
    "status" "BackupStatus" NOT NULL DEFAULT 'running',
    "trigger" "BackupTrigger" NOT NULL,
    "sizeBytes" BIGINT,
    "storageKey" TEXT,
    "counts" JSONB,
    "verification" JSONB,
    "error" TEXT,
    "createdById" UUID,
    "startedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" TIMESTAMPTZ(3),
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Backup_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Backup_databaseId_startedAt_id_idx" ON "Backup"("databaseId", "startedAt" DESC, "id");

-- CreateIndex
CREATE INDEX "Backup_redisId_startedAt_id_idx" ON "Backup"("redisId", "startedAt" DESC, "id");

-- CreateIndex
CREATE INDEX "Backup_teamId_kind_trigger_status_idx" ON "Backup"("teamId", "kind", "trigger", "status");

-- CreateIndex
CREATE INDEX "TenantDatabase_backupEnabled_backupNextAt_idx" ON "TenantDatabase"("backupEnabled", "backupNextAt");

-- AddForeignKey
ALTER TABLE "Backup" ADD CONSTRAINT "Backup_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "Team"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Backup" ADD CONSTRAINT "Backup_databaseId_fkey" FOREIGN KEY ("databaseId") REFERENCES "TenantDatabase"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Backup" ADD CONSTRAINT "Backup_redisId_fkey" FOREIGN KEY ("redisId") REFERENCES "TenantRedis"("id") ON DELETE SET NULL ON UPDATE CASCADE;
