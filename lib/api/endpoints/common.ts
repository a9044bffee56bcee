// Schemas shared by every endpoint file.
import { z } from "zod";

export const isoDate = z.iso.datetime();
export const idParams = z.strictObject({ id: z.uuid() });

export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    nextCursor: z.string().nullable().describe("Pass as ?cursor= for the next page; null on the last page"),
  });
}

export function iso(date: Date): string;
export function iso(date: Date | null): string | null;
export function iso(date: Date | null): string | null {
  return date ? date.toISOString() : null;
}
