-- AlterTable
ALTER TABLE "Deployment" ADD COLUMN     "imagePrunedAt" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "HostCheckReport" (
    "id" UUID NOT NULL,
    "operationId" UUID,
    "ok" BOOLEAN NOT NULL,
    "sections" JSONB NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "HostCheckReport_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "HostCheckReport_operationId_key" ON "HostCheckReport"("operationId");

-- CreateIndex
CREATE INDEX "HostCheckReport_createdAt_idx" ON "HostCheckReport"("createdAt" DESC);

