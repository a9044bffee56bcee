// What the host page's poll returns: plain JSON (dates as ISO strings), shared by the server action and the client.
export type HostCheckLine = { name: string; status: "ok" | "warn" | "error"; message: string };
export type HostCheckPoll = {
  report: { ok: boolean; sections: { name: string; checks: HostCheckLine[] }[]; createdAt: string } | null;
  running: boolean;
};
