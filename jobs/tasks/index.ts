// The task registry: one entry per file in jobs/tasks, keyed by its name, each built from its entry in the catalog
// (jobs/catalog.ts); the `satisfies` below and jobs/runner.test.ts keep files, registry and catalog in step. Only the
// runner side (jobs/runner.ts, jobs/worker.ts, tests, benchmarks) imports this: it loads every task's code.
import type { Catalog, TaskName } from "@/jobs/catalog";
import type { TaskDefinition } from "@/jobs/define";
import { appCollectLogs } from "@/jobs/tasks/app__collect_logs";
import { appDelete } from "@/jobs/tasks/app__delete";
import { appLifecycle } from "@/jobs/tasks/app__lifecycle";
import { backupDelete } from "@/jobs/tasks/backup__delete";
import { backupRestore } from "@/jobs/tasks/backup__restore";
import { backupRun } from "@/jobs/tasks/backup__run";
import { backupSchedule } from "@/jobs/tasks/backup__schedule";
import { caddySync } from "@/jobs/tasks/caddy__sync";
import { cronSchedule } from "@/jobs/tasks/cron__schedule";
import { deploymentBuild } from "@/jobs/tasks/deployment__build";
import { deploymentRelease } from "@/jobs/tasks/deployment__release";
import { domainCheck } from "@/jobs/tasks/domain__check";
import { domainCheckTls } from "@/jobs/tasks/domain__check_tls";
import { domainScheduleChecks } from "@/jobs/tasks/domain__schedule_checks";
import { domainScheduleTlsChecks } from "@/jobs/tasks/domain__schedule_tls_checks";
import { emailSend } from "@/jobs/tasks/email__send";
import { instanceUsage } from "@/jobs/tasks/instance__usage";
import { metricsRollup } from "@/jobs/tasks/metrics__rollup";
import { metricsSample } from "@/jobs/tasks/metrics__sample";
import { notificationDeliver } from "@/jobs/tasks/notification__deliver";
import { platformCheck } from "@/jobs/tasks/platform__check";
import { platformCrashWatch } from "@/jobs/tasks/platform__crash_watch";
import { platformPing } from "@/jobs/tasks/platform__ping";
import { platformPrune } from "@/jobs/tasks/platform__prune";
import { platformReconcile } from "@/jobs/tasks/platform__reconcile";
import { redisExport } from "@/jobs/tasks/redis__export";
import { redisImport } from "@/jobs/tasks/redis__import";
import { runExecute } from "@/jobs/tasks/run__execute";
import { teamDelete } from "@/jobs/tasks/team__delete";
import { tenantDbApplyLimits } from "@/jobs/tasks/tenant_db__apply_limits";
import { tenantDbDeprovision } from "@/jobs/tasks/tenant_db__deprovision";
import { tenantDbProvision } from "@/jobs/tasks/tenant_db__provision";
import { tenantDbRotate } from "@/jobs/tasks/tenant_db__rotate";
import { tenantRedisDeprovision } from "@/jobs/tasks/tenant_redis__deprovision";
import { tenantRedisProvision } from "@/jobs/tasks/tenant_redis__provision";
import { tenantRedisRotate } from "@/jobs/tasks/tenant_redis__rotate";
import { tenantServicesSweep } from "@/jobs/tasks/tenant_services__sweep";

export const tasks = {
  [appCollectLogs.name]: appCollectLogs,
  [appDelete.name]: appDelete,
  [appLifecycle.name]: appLifecycle,
  [backupDelete.name]: backupDelete,
  [backupRestore.name]: backupRestore,
  [backupRun.name]: backupRun,
  [backupSchedule.name]: backupSchedule,
  [caddySync.name]: caddySync,
  [cronSchedule.name]: cronSchedule,
  [deploymentBuild.name]: deploymentBuild,
  [deploymentRelease.name]: deploymentRelease,
  [domainCheck.name]: domainCheck,
  [domainCheckTls.name]: domainCheckTls,
  [domainScheduleChecks.name]: domainScheduleChecks,
  [domainScheduleTlsChecks.name]: domainScheduleTlsChecks,
  [emailSend.name]: emailSend,
  [instanceUsage.name]: instanceUsage,
  [notificationDeliver.name]: notificationDeliver,
  [metricsRollup.name]: metricsRollup,
  [metricsSample.name]: metricsSample,
  [platformCheck.name]: platformCheck,
  [platformCrashWatch.name]: platformCrashWatch,
  [platformPing.name]: platformPing,
  [platformPrune.name]: platformPrune,
  [platformReconcile.name]: platformReconcile,
  [redisExport.name]: redisExport,
  [redisImport.name]: redisImport,
  [runExecute.name]: runExecute,
  [teamDelete.name]: teamDelete,
  [tenantDbApplyLimits.name]: tenantDbApplyLimits,
  [tenantDbDeprovision.name]: tenantDbDeprovision,
  [tenantDbProvision.name]: tenantDbProvision,
  [tenantDbRotate.name]: tenantDbRotate,
  [tenantRedisDeprovision.name]: tenantRedisDeprovision,
  [tenantRedisProvision.name]: tenantRedisProvision,
  [tenantRedisRotate.name]: tenantRedisRotate,
  [tenantServicesSweep.name]: tenantServicesSweep,
} as const satisfies { [Name in TaskName]: TaskDefinition<Name, Catalog[Name]["payload"]> };

export type Tasks = typeof tasks;
export type { TaskName };
