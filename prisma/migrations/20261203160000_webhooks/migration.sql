-- CreateEnum
CREATE TYPE "DeploymentTrigger" AS ENUM ('push', 'manual', 'api', 'rollback', 'redeploy');

-- CreateEnum
CREATE TYPE "WebhookDeliveryOutcome" AS ENUM ('deployed', 'ignored', 'rejected', 'duplicate');

-- AlterTable
ALTER TABLE "App" ADD COLUMN     "autoDeploy" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "Deployment" ADD COLUMN     "commitAuthor" TEXT,
ADD COLUMN     "commitMessage" TEXT,
ADD COLUMN     "redeployOfId" UUID,
ADD COLUMN     "repositoryUrl" TEXT,
ADD COLUMN     "supersededById" UUID,
ADD COLUMN     "trigger" "DeploymentTrigger" NOT NULL DEFAULT 'manual';

-- CreateTable
CREATE TABLE "Webhook" (
    "id" UUID NOT NULL,
    "appId" UUID NOT NULL,
    "teamId" UUID NOT NULL,
    "urlToken" TEXT NOT NULL,
    "secretSealed" TEXT NOT NULL,
    "events" TEXT[],
    "createdBy" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Webhook_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "WebhookDelivery" (
    "id" UUID NOT NULL,
    "appId" UUID NOT NULL,
    "teamId" UUID NOT NULL,
    "forge" TEXT NOT NULL,
    "deliveryId" TEXT,
    "event" TEXT,
    "ref" TEXT,
    "sha" TEXT,
    "outcome" "WebhookDeliveryOutcome" NOT NULL,
    "reason" TEXT NOT NULL,
    "deploymentId" UUID,
    "receivedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "WebhookDelivery_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Webhook_appId_key" ON "Webhook"("appId");

-- CreateIndex
CREATE UNIQUE INDEX "Webhook_urlToken_key" ON "Webhook"("urlToken");

-- CreateIndex
CREATE INDEX "Webhook_teamId_idx" ON "Webhook"("teamId");

-- CreateIndex
CREATE INDEX "WebhookDelivery_appId_receivedAt_id_idx" ON "WebhookDelivery"("appId", "receivedAt" DESC, "id");

-- CreateIndex
CREATE UNIQUE INDEX "WebhookDelivery_appId_forge_deliveryId_key" ON "WebhookDelivery"("appId", "forge", "deliveryId");

-- AddForeignKey
ALTER TABLE "Webhook" ADD CONSTRAINT "Webhook_appId_fkey" FOREIGN KEY ("appId") REFERENCES "App"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "WebhookDelivery" ADD CONSTRAINT "WebhookDelivery_appId_fkey" FOREIGN KEY ("appId") REFERENCES "App"("id") ON DELETE CASCADE ON UPDATE CASCADE;
