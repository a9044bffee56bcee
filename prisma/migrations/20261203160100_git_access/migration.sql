-- CreateEnum
CREATE TYPE "GitHostKeySource" AS ENUM ('shipped', 'first_use');

-- CreateTable
CREATE TABLE "DeployKey" (
    "id" UUID NOT NULL,
    "appId" UUID NOT NULL,
    "publicKey" TEXT NOT NULL,
    "privateKeySealed" TEXT NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "createdBy" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "DeployKey_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "GitHostKey" (
    "id" UUID NOT NULL,
    "appId" UUID NOT NULL,
    "host" TEXT NOT NULL,
    "port" INTEGER NOT NULL,
    "keyType" TEXT NOT NULL,
    "publicKey" TEXT NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "source" "GitHostKeySource" NOT NULL,
    "confirmedAt" TIMESTAMPTZ(3),
    "confirmedBy" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "GitHostKey_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "GitHttpsToken" (
    "id" UUID NOT NULL,
    "appId" UUID NOT NULL,
    "tokenSealed" TEXT NOT NULL,
    "username" TEXT,
    "createdBy" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "GitHttpsToken_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "DeployKey_appId_key" ON "DeployKey"("appId");

-- CreateIndex
CREATE INDEX "GitHostKey_appId_createdAt_id_idx" ON "GitHostKey"("appId", "createdAt", "id");

-- CreateIndex
CREATE UNIQUE INDEX "GitHostKey_appId_host_port_keyType_publicKey_key" ON "GitHostKey"("appId", "host", "port", "keyType", "publicKey");

-- CreateIndex
CREATE UNIQUE INDEX "GitHttpsToken_appId_key" ON "GitHttpsToken"("appId");

-- AddForeignKey
ALTER TABLE "DeployKey" ADD CONSTRAINT "DeployKey_appId_fkey" FOREIGN KEY ("appId") REFERENCES "App"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "GitHostKey" ADD CONSTRAINT "GitHostKey_appId_fkey" FOREIGN KEY ("appId") REFERENCES "App"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "GitHttpsToken" ADD CONSTRAINT "GitHttpsToken_appId_fkey" FOREIGN KEY ("appId") REFERENCES "App"("id") ON DELETE CASCADE ON UPDATE CASCADE;
