-- Issue #18: a cancelled deployment's operation ends "cancelled" (it ended "failed"), and a failed deployment says
-- whose it is to fix (the tenant's or the operator's).
ALTER TYPE "OperationStatus" ADD VALUE 'cancelled';

CREATE TYPE "FailureSide" AS ENUM ('tenant', 'operator');

ALTER TABLE "Deployment" ADD COLUMN "failureSide" "FailureSide";
