// What the Domains tab shows and polls: the app's domains, newest first, in a constant number of queries whatever
// their number (one listDomains page). A team holds at most its domain quota; past one page the API lists the rest.
import type { Db } from "@/lib/db";
import type { Ctx } from "@/lib/domain/context";
import { type DomainView, listDomains } from "@/lib/domain/domains";
import { MAX_PAGE_SIZE } from "@/lib/domain/pagination";

export type AppDomains = {
  items: DomainView[];
  /** More domains than one page: the tab says so and points to the API. */
  more: boolean;
};

export async function loadAppDomains(db: Db, ctx: Ctx, appId: string): Promise<AppDomains> {
  const page = await listDomains(db, ctx, appId, { limit: MAX_PAGE_SIZE });
  return { items: page.items, more: page.nextCursor !== null };
}
