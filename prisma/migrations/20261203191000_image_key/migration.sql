-- AlterTable
ALTER TABLE "Deployment" ADD COLUMN     "imageKey" TEXT;

-- CreateIndex
CREATE INDEX "Deployment_appId_imageKey_idx" ON "Deployment"("appId", "imageKey");
