-- CreateEnum
CREATE TYPE "AppStatus" AS ENUM ('created', 'deploying', 'running', 'stopped', 'failed', 'deleting');

-- CreateEnum
CREATE TYPE "SourceType" AS ENUM ('git', 'upload');

-- CreateEnum
CREATE TYPE "DeploymentStatus" AS ENUM ('queued', 'building', 'built', 'releasing', 'running', 'failed', 'superseded', 'cancelled');

-- CreateTable
CREATE TABLE "App" (
    "id" UUID NOT NULL,
    "teamId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "status" "AppStatus" NOT NULL DEFAULT 'created',
    "sourceType" "SourceType",
    "gitUrl" TEXT,
    "gitRef" TEXT,
    "subdirectory" TEXT,
    "pythonVersion" TEXT,
    "installCommand" TEXT,
    "webCommand" TEXT,
    "releaseCommand" TEXT,
    "memoryMb" INTEGER NOT NULL DEFAULT 512,
    "cpuMillis" INTEGER NOT NULL DEFAULT 1000,
    "healthCheckPath" TEXT NOT NULL DEFAULT '/',
    "replicas" INTEGER NOT NULL DEFAULT 1,
    "currentDeploymentId" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "App_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "EnvVar" (
    "id" UUID NOT NULL,
    "appId" UUID NOT NULL,
    "key" TEXT NOT NULL,
    "valueEncrypted" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "EnvVar_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Upload" (
    "id" UUID NOT NULL,
    "teamId" UUID NOT NULL,
    "sizeBytes" INTEGER NOT NULL,
    "sha256" TEXT NOT NULL,
    "createdBy" UUID,
    "expiresAt" TIMESTAMPTZ(3) NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Upload_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Deployment" (
    "id" UUID NOT NULL,
    "appId" UUID NOT NULL,
    "teamId" UUID NOT NULL,
    "number" INTEGER NOT NULL,
    "status" "DeploymentStatus" NOT NULL DEFAULT 'queued',
    "sourceType" "SourceType" NOT NULL,
    "gitUrl" TEXT,
    "gitRef" TEXT,
    "uploadId" UUID,
    "commitSha" TEXT,
    "plan" JSONB,
    "imageRef" TEXT,
    "phases" JSONB NOT NULL DEFAULT '[]',
    "error" TEXT,
    "cancelRequestedAt" TIMESTAMPTZ(3),
    "operationId" UUID,
    "createdBy" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,
    "finishedAt" TIMESTAMPTZ(3),

    CONSTRAINT "Deployment_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "App_teamId_createdAt_id_idx" ON "App"("teamId", "createdAt" DESC, "id");

-- CreateIndex
CREATE UNIQUE INDEX "App_teamId_name_key" ON "App"("teamId", "name");

-- CreateIndex
CREATE UNIQUE INDEX "EnvVar_appId_key_key" ON "EnvVar"("appId", "key");

-- CreateIndex
CREATE INDEX "Upload_teamId_createdAt_idx" ON "Upload"("teamId", "createdAt" DESC);

-- CreateIndex
CREATE INDEX "Upload_expiresAt_idx" ON "Upload"("expiresAt");

-- CreateIndex
CREATE INDEX "Deployment_appId_createdAt_id_idx" ON "Deployment"("appId", "createdAt" DESC, "id");

-- CreateIndex
CREATE INDEX "Deployment_teamId_status_idx" ON "Deployment"("teamId", "status");

-- CreateIndex
CREATE UNIQUE INDEX "Deployment_appId_number_key" ON "Deployment"("appId", "number");

-- AddForeignKey
ALTER TABLE "App" ADD CONSTRAINT "App_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "Team"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "EnvVar" ADD CONSTRAINT "EnvVar_appId_fkey" FOREIGN KEY ("appId") REFERENCES "App"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Upload" ADD CONSTRAINT "Upload_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "Team"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Deployment" ADD CONSTRAINT "Deployment_appId_fkey" FOREIGN KEY ("appId") REFERENCES "App"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Deployment" ADD CONSTRAINT "Deployment_uploadId_fkey" FOREIGN KEY ("uploadId") REFERENCES "Upload"("id") ON DELETE SET NULL ON UPDATE CASCADE;

