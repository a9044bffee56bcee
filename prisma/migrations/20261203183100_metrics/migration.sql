-- CreateTable
CREATE TABLE "MetricSample" (
    "appId" UUID NOT NULL,
    "process" TEXT NOT NULL,
    "replica" INTEGER NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,
    "cpu" DOUBLE PRECISION NOT NULL,
    "memoryBytes" BIGINT NOT NULL,
    "memoryLimitBytes" BIGINT NOT NULL,
    "netInBytes" BIGINT NOT NULL,
    "netOutBytes" BIGINT NOT NULL,
    "netInTotal" BIGINT NOT NULL,
    "netOutTotal" BIGINT NOT NULL,
    "pids" INTEGER NOT NULL,
    "restarts" INTEGER NOT NULL,

    CONSTRAINT "MetricSample_pkey" PRIMARY KEY ("appId","process","replica","at")
);

-- CreateTable
CREATE TABLE "MetricBucket" (
    "appId" UUID NOT NULL,
    "process" TEXT NOT NULL,
    "start" TIMESTAMPTZ(3) NOT NULL,
    "cpuAvg" DOUBLE PRECISION NOT NULL,
    "cpuMax" DOUBLE PRECISION NOT NULL,
    "memoryAvg" BIGINT NOT NULL,
    "memoryMax" BIGINT NOT NULL,
    "memoryLimit" BIGINT NOT NULL,
    "netInBytes" BIGINT NOT NULL,
    "netOutBytes" BIGINT NOT NULL,
    "restarts" INTEGER NOT NULL,
    "samples" INTEGER NOT NULL,

    CONSTRAINT "MetricBucket_pkey" PRIMARY KEY ("appId","process","start")
);

-- CreateTable
CREATE TABLE "HttpMetric" (
    "appId" UUID NOT NULL,
    "step" INTEGER NOT NULL,
    "start" TIMESTAMPTZ(3) NOT NULL,
    "requests" INTEGER NOT NULL,
    "status1xx" INTEGER NOT NULL,
    "status2xx" INTEGER NOT NULL,
    "status3xx" INTEGER NOT NULL,
    "status4xx" INTEGER NOT NULL,
    "status5xx" INTEGER NOT NULL,
    "bytes" BIGINT NOT NULL,
    "latency" INTEGER[],

    CONSTRAINT "HttpMetric_pkey" PRIMARY KEY ("appId","step","start")
);

-- CreateTable
CREATE TABLE "MetricsIngestState" (
    "id" TEXT NOT NULL,
    "inode" TEXT,
    "offset" BIGINT NOT NULL DEFAULT 0,
    "skipped" BIGINT NOT NULL DEFAULT 0,
    "unmapped" BIGINT NOT NULL DEFAULT 0,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "MetricsIngestState_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "MetricSample_at_idx" ON "MetricSample"("at");

-- CreateIndex
CREATE INDEX "MetricBucket_start_idx" ON "MetricBucket"("start");

-- CreateIndex
CREATE INDEX "HttpMetric_step_start_idx" ON "HttpMetric"("step", "start");

-- AddForeignKey
ALTER TABLE "MetricSample" ADD CONSTRAINT "MetricSample_appId_fkey" FOREIGN KEY ("appId") REFERENCES "App"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "MetricBucket" ADD CONSTRAINT "MetricBucket_appId_fkey" FOREIGN KEY ("appId") REFERENCES "App"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "HttpMetric" ADD CONSTRAINT "HttpMetric_appId_fkey" FOREIGN KEY ("appId") REFERENCES "App"("id") ON DELETE CASCADE ON UPDATE CASCADE;
