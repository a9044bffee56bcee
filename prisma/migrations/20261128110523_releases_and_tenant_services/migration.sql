-- CreateEnum
CREATE TYPE "ReplicaStatus" AS ENUM ('starting', 'healthy', 'draining', 'stopped', 'failed');

-- CreateEnum
CREATE TYPE "TenantServiceStatus" AS ENUM ('provisioning', 'ready', 'failed', 'deleting');

-- CreateTable
CREATE TABLE "Replica" (
    "id" UUID NOT NULL,
    "appId" UUID NOT NULL,
    "deploymentId" UUID NOT NULL,
    "index" INTEGER NOT NULL,
    "containerName" TEXT NOT NULL,
    "hostPort" INTEGER,
    "status" "ReplicaStatus" NOT NULL DEFAULT 'starting',
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Replica_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "RouterState" (
    "id" TEXT NOT NULL,
    "lastAppliedHash" TEXT,
    "appliedAt" TIMESTAMPTZ(3),
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "RouterState_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "TenantDatabase" (
    "id" UUID NOT NULL,
    "teamId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "appId" UUID,
    "status" "TenantServiceStatus" NOT NULL DEFAULT 'provisioning',
    "connectionLimit" INTEGER NOT NULL DEFAULT 20,
    "statementTimeoutMs" INTEGER NOT NULL DEFAULT 30000,
    "idleInTransactionMs" INTEGER NOT NULL DEFAULT 60000,
    "passwordEncrypted" TEXT,
    "error" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "TenantDatabase_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "TenantRedis" (
    "id" UUID NOT NULL,
    "teamId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "appId" UUID,
    "status" "TenantServiceStatus" NOT NULL DEFAULT 'provisioning',
    "passwordEncrypted" TEXT,
    "error" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "TenantRedis_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Replica_containerName_key" ON "Replica"("containerName");

-- CreateIndex
CREATE INDEX "Replica_appId_status_idx" ON "Replica"("appId", "status");

-- CreateIndex
CREATE UNIQUE INDEX "Replica_deploymentId_index_key" ON "Replica"("deploymentId", "index");

-- CreateIndex
CREATE INDEX "TenantDatabase_teamId_createdAt_id_idx" ON "TenantDatabase"("teamId", "createdAt" DESC, "id");

-- CreateIndex
CREATE INDEX "TenantDatabase_appId_idx" ON "TenantDatabase"("appId");

-- CreateIndex
CREATE UNIQUE INDEX "TenantDatabase_teamId_name_key" ON "TenantDatabase"("teamId", "name");

-- CreateIndex
CREATE INDEX "TenantRedis_teamId_createdAt_id_idx" ON "TenantRedis"("teamId", "createdAt" DESC, "id");

-- CreateIndex
CREATE INDEX "TenantRedis_appId_idx" ON "TenantRedis"("appId");

-- CreateIndex
CREATE UNIQUE INDEX "TenantRedis_teamId_name_key" ON "TenantRedis"("teamId", "name");

-- AddForeignKey
ALTER TABLE "Replica" ADD CONSTRAINT "Replica_appId_fkey" FOREIGN KEY ("appId") REFERENCES "App"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TenantDatabase" ADD CONSTRAINT "TenantDatabase_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "Team"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TenantDatabase" ADD CONSTRAINT "TenantDatabase_appId_fkey" FOREIGN KEY ("appId") REFERENCES "App"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TenantRedis" ADD CONSTRAINT "TenantRedis_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "Team"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TenantRedis" ADD CONSTRAINT "TenantRedis_appId_fkey" FOREIGN KEY ("appId") REFERENCES "App"("id") ON DELETE SET NULL ON UPDATE CASCADE;

