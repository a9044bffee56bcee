-- CreateEnum
CREATE TYPE "RunKind" AS ENUM ('oneoff', 'cron');

-- CreateEnum
CREATE TYPE "RunStatus" AS ENUM ('queued', 'running', 'succeeded', 'failed', 'timed_out', 'cancelled', 'skipped', 'missed');

-- AlterTable
ALTER TABLE "InstanceQuota" ADD COLUMN     "concurrentRuns" INTEGER,
ADD COLUMN     "cronJobs" INTEGER;

-- AlterTable
ALTER TABLE "TeamQuota" ADD COLUMN     "concurrentRuns" INTEGER,
ADD COLUMN     "cronJobs" INTEGER;

-- CreateTable
CREATE TABLE "CronJob" (
    "id" UUID NOT NULL,
    "appId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "schedule" TEXT NOT NULL,
    "command" TEXT NOT NULL,
    "timezone" TEXT NOT NULL DEFAULT 'UTC',
    "timeoutSeconds" INTEGER NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "lastTickAt" TIMESTAMPTZ(3) NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "CronJob_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Run" (
    "id" UUID NOT NULL,
    "appId" UUID NOT NULL,
    "teamId" UUID NOT NULL,
    "kind" "RunKind" NOT NULL,
    "cronJobId" UUID,
    "tick" TIMESTAMPTZ(3),
    "command" TEXT NOT NULL,
    "status" "RunStatus" NOT NULL DEFAULT 'queued',
    "exitCode" INTEGER,
    "reason" TEXT,
    "timeoutSeconds" INTEGER NOT NULL,
    "deploymentId" UUID,
    "createdBy" UUID,
    "operationId" UUID,
    "queuedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMPTZ(3),
    "finishedAt" TIMESTAMPTZ(3),
    "cancelRequestedAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Run_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "CronJob_enabled_idx" ON "CronJob"("enabled");

-- CreateIndex
CREATE UNIQUE INDEX "CronJob_appId_name_key" ON "CronJob"("appId", "name");

-- CreateIndex
CREATE INDEX "Run_appId_createdAt_id_idx" ON "Run"("appId", "createdAt" DESC, "id");

-- CreateIndex
CREATE INDEX "Run_teamId_status_idx" ON "Run"("teamId", "status");

-- CreateIndex
CREATE INDEX "Run_status_startedAt_idx" ON "Run"("status", "startedAt");

-- CreateIndex
CREATE UNIQUE INDEX "Run_cronJobId_tick_key" ON "Run"("cronJobId", "tick");

-- AddForeignKey
ALTER TABLE "CronJob" ADD CONSTRAINT "CronJob_appId_fkey" FOREIGN KEY ("appId") REFERENCES "App"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Run" ADD CONSTRAINT "Run_appId_fkey" FOREIGN KEY ("appId") REFERENCES "App"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Run" ADD CONSTRAINT "Run_cronJobId_fkey" FOREIGN KEY ("cronJobId") REFERENCES "CronJob"("id") ON DELETE SET NULL ON UPDATE CASCADE;
