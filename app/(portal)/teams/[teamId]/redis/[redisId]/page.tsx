import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { exportRedisAction, importRedisAction } from "@/app/(portal)/teams/[teamId]/databases/backup-actions";
import { type ServiceDetail, serviceDetail } from "@/app/(portal)/teams/[teamId]/databases/service-data";
import {
  attachRedisAction,
  deleteRedisAction,
  pollRedis,
  revealRedisCredentialsAction,
  rotateRedisAction,
} from "@/app/(portal)/teams/[teamId]/redis/actions";
import { teamPage } from "@/app/(portal)/teams/[teamId]/team-page";
import { RedisTransferSection } from "@/components/backups/redis-transfer";
import { ServiceDetailView } from "@/components/services/service-views";
import { roleAllows } from "@/lib/auth/permissions";
import { getDb } from "@/lib/db";
import { listRedisExports } from "@/lib/domain/backups";
import { listTeamRedisExports } from "@/lib/domain/redis-exports";
import { isAppError } from "@/lib/errors";

export const metadata: Metadata = { title: "Redis instance" };

export default async function RedisInstancePage({ params }: { params: Promise<{ teamId: string; redisId: string }> }) {
  const { teamId, redisId } = await params;
  const { ctx } = await teamPage(teamId, `/teams/${teamId}/redis/${redisId}`);
  let detail: ServiceDetail;
  try {
    detail = await serviceDetail(getDb(), ctx, "redis", redisId);
  } catch (error) {
    if (isAppError(error) && error.code === "not_found") notFound();
    throw error;
  }
  const admin = roleAllows(ctx.role, "databases:manage");
  const [exports, importable] = await Promise.all([
    listRedisExports(getDb(), ctx, redisId, { limit: 10 }),
    admin ? listTeamRedisExports(getDb(), ctx) : Promise.resolve([]),
  ]);
  return (
    <>
      <ServiceDetailView
        kind="redis"
        teamId={ctx.teamId}
        service={detail.service}
        pending={detail.pending}
        apps={detail.apps}
        poll={pollRedis}
        actions={
          admin
            ? {
                attach: attachRedisAction,
                rotate: rotateRedisAction,
                reveal: revealRedisCredentialsAction,
                remove: deleteRedisAction,
              }
            : null
        }
      />
      <RedisTransferSection
        ids={{ teamId: ctx.teamId, redisId }}
        redisName={detail.service.name}
        exports={exports.items}
        importable={importable}
        exportAction={roleAllows(ctx.role, "backups:create") ? exportRedisAction : null}
        importAction={admin ? importRedisAction : null}
      />
    </>
  );
}
