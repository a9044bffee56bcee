-- CreateTable
CREATE TABLE "InstanceQuota" (
    "id" TEXT NOT NULL DEFAULT 'instance',
    "apps" INTEGER,
    "databases" INTEGER,
    "redis" INTEGER,
    "dbConnections" INTEGER,
    "uploadMb" INTEGER,
    "concurrentBuilds" INTEGER,
    "redisMemoryMb" INTEGER,
    "statementTimeoutS" INTEGER,
    "teamsPerUser" INTEGER,
    "updatedBy" UUID,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "InstanceQuota_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "TeamQuota" (
    "teamId" UUID NOT NULL,
    "apps" INTEGER,
    "databases" INTEGER,
    "redis" INTEGER,
    "dbConnections" INTEGER,
    "uploadMb" INTEGER,
    "concurrentBuilds" INTEGER,
    "redisMemoryMb" INTEGER,
    "statementTimeoutS" INTEGER,
    "updatedBy" UUID,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "TeamQuota_pkey" PRIMARY KEY ("teamId")
);

-- CreateTable
CREATE TABLE "QuotaChange" (
    "id" UUID NOT NULL,
    "teamId" UUID,
    "actorId" UUID,
    "actorLabel" TEXT NOT NULL,
    "before" JSONB,
    "after" JSONB NOT NULL,
    "requestId" TEXT,
    "ip" TEXT,
    "userAgent" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "QuotaChange_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "QuotaChange_createdAt_id_idx" ON "QuotaChange"("createdAt" DESC, "id");

-- CreateIndex
CREATE INDEX "QuotaChange_teamId_createdAt_idx" ON "QuotaChange"("teamId", "createdAt" DESC);

-- AddForeignKey
ALTER TABLE "TeamQuota" ADD CONSTRAINT "TeamQuota_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "Team"("id") ON DELETE CASCADE ON UPDATE CASCADE;
