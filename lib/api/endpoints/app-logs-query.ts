// The query of GET /api/v1/apps/{appId}/logs (#17): the newest lines, or a filtered and searched window of the kept
// logs. Search is a plain substring, case-insensitive, never a tenant-supplied pattern; filtered reads scan at most
// the kept file (SEARCH_WINDOW_BYTES, 4 MiB per app).
import { z } from "zod";
import { queryDateTime, queryInt, queryText } from "@/lib/api/query";
import { MAX_SEARCH_CHARS } from "@/lib/app-log-file";
import { MAX_REPLICAS } from "@/lib/domain/lifecycle";
import { lineText } from "@/lib/domain/text";

export const appLogsQuery = z.strictObject({
  tail: queryInt({ min: 1, max: 1000, default: 200, description: "How many of the newest lines" }),
  since: queryDateTime("Only lines at or after this time").optional(),
  until: queryDateTime("Only lines at or before this time").optional(),
  process: lineText()
    .max(30)
    .regex(/^[a-z]([a-z0-9-]*[a-z0-9])?$/, "A process type: lower-case letters, digits and hyphens.")
    .optional()
    .describe('Only this process type\'s lines ("web", "worker", ...)'),
  // queryInt's rule (plain decimal digits, in range) without its default: no replica means every replica.
  replica: z
    .string()
    .regex(/^[0-9]{1,4}$/, "Must be an integer in plain decimal digits.")
    .transform(Number)
    .pipe(z.number().int().min(0).max(MAX_REPLICAS))
    .meta({
      type: "integer",
      minimum: 0,
      maximum: MAX_REPLICAS,
      description: "Only this replica's lines (0, 1, ...)",
    })
    .optional(),
  q: queryText(MAX_SEARCH_CHARS)
    .optional()
    .describe(
      "Only lines containing this text, case-insensitively (plain text, not a pattern). Filtered reads scan at most the newest 4 MiB the platform keeps per app",
    ),
});
