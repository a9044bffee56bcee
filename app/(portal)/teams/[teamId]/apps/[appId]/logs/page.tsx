import type { Metadata } from "next";
import { downloadFilteredLogs, pollAppLogs } from "@/app/(portal)/teams/[teamId]/apps/[appId]/actions";
import { appPage, appTitle } from "@/app/(portal)/teams/[teamId]/apps/[appId]/app-page";
import { AppLogsLive } from "@/components/apps/app-logs-live";
import { Card } from "@/components/ui";

type Params = Promise<{ teamId: string; appId: string }>;

export async function generateMetadata({ params }: { params: Params }): Promise<Metadata> {
  const { teamId, appId } = await params;
  const name = await appTitle(teamId, appId);
  return name ? { title: `Logs · ${name}` } : {};
}

// The app's runtime logs (what its containers print), loaded and followed by the client through pollAppLogs.
export default async function AppLogsPage({ params }: { params: Params }) {
  const { teamId, appId } = await params;
  const { ctx, app } = await appPage(teamId, appId, `/teams/${teamId}/apps/${appId}/logs`);
  return (
    <Card
      title="Runtime logs"
      description="What the app's containers print, labelled by replica. New lines appear while following; the platform collects them every few seconds. Search (plain text, any case), process, replica and time range filter the kept logs (the newest 4 MiB); Download saves what matches."
    >
      <AppLogsLive
        teamId={ctx.teamId}
        appId={app.id}
        running={app.status === "running"}
        poll={pollAppLogs}
        download={downloadFilteredLogs}
      />
    </Card>
  );
}
