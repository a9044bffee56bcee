// Next hands pages their query as `string | string[] | undefined` per key; pages only ever want one value.
export type SearchParams = Promise<Record<string, string | string[] | undefined>>;

export function firstParam(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
