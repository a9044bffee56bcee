-- AlterEnum
ALTER TYPE "ReplicaStatus" ADD VALUE 'crashed';

-- AlterTable
ALTER TABLE "App" ADD COLUMN     "processCommands" JSONB,
ADD COLUMN     "processTypes" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "processes" JSONB NOT NULL DEFAULT '{}';

-- AlterTable
ALTER TABLE "Replica" ADD COLUMN     "lastExitAt" TIMESTAMPTZ(3),
ADD COLUMN     "lastExitCode" INTEGER,
ADD COLUMN     "lastExitLog" TEXT,
ADD COLUMN     "process" TEXT NOT NULL DEFAULT 'web',
ADD COLUMN     "restartAt" TIMESTAMPTZ(3),
ADD COLUMN     "restartCount" INTEGER NOT NULL DEFAULT 0;

-- DropIndex
DROP INDEX "Replica_deploymentId_index_key";

-- CreateIndex
CREATE UNIQUE INDEX "Replica_deploymentId_process_index_key" ON "Replica"("deploymentId", "process", "index");
