-- AlterTable
ALTER TABLE "InstanceQuota" ADD COLUMN     "processes" INTEGER;

-- AlterTable
ALTER TABLE "TeamQuota" ADD COLUMN     "processes" INTEGER;
