// Reading a growing log file in chunks for polling readers (GET .../logs?offset=): each chunk ends on a line
// boundary, so a reader never sees half a line, and on a UTF-8 character boundary when one line is longer than a chunk.
import fs from "node:fs/promises";

export const CHUNK_MAX_BYTES = 256 * 1024;

export type LogChunk = { text: string; nextOffset: number; complete: boolean };

function utf8Boundary(buffer: Buffer, end: number): number {
  let cut = end;
  while (cut > 0 && ((buffer[cut - 1] ?? 0) & 0xc0) === 0x80) cut -= 1;
  if (cut > 0 && ((buffer[cut - 1] ?? 0) & 0x80) !== 0) {
    const lead = buffer[cut - 1] ?? 0;
    const length = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
    if (end - (cut - 1) < length) return cut - 1;
  }
  return end;
}

/**
 * From `offset`, or (with `tail`) the last `tail` lines. `finished`: nothing more will be written, so the last line
 * may end without a newline and `complete` turns true once the reader has it all.
 */
export async function readLogChunk(
  file: string,
  options: { offset: number; tail?: number | undefined; finished: boolean },
): Promise<LogChunk> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, "r");
  } catch {
    return { text: "", nextOffset: options.offset, complete: options.finished };
  }
  try {
    const size = (await handle.stat()).size;
    let offset = options.offset;
    if (options.tail !== undefined) {
      // The last lines: read the end of the file and keep what follows the tail's first line start.
      const start = Math.max(0, size - CHUNK_MAX_BYTES);
      const end = Buffer.alloc(size - start);
      await handle.read(end, 0, end.length, start);
      // While the run goes on, a last line without its newline is not a line yet.
      let cut = options.finished ? end.length : end.lastIndexOf(0x0a) + 1;
      for (let lines = 0; cut > 0; ) {
        const newline = end.lastIndexOf(0x0a, cut - 2);
        if (newline === -1) {
          cut = start === 0 ? 0 : cut;
          break;
        }
        cut = newline + 1;
        lines += 1;
        if (lines >= options.tail) break;
      }
      offset = start + cut;
    }
    const buffer = Buffer.alloc(CHUNK_MAX_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, CHUNK_MAX_BYTES, offset);
    const atEnd = offset + bytesRead >= size;
    let end = bytesRead;
    if (end > 0 && !(options.finished && atEnd)) {
      const lastNewline = buffer.subarray(0, end).lastIndexOf(0x0a);
      if (lastNewline !== -1) end = lastNewline + 1;
      else if (end < CHUNK_MAX_BYTES) end = 0;
      else end = utf8Boundary(buffer, end);
    }
    return {
      text: buffer.subarray(0, end).toString("utf8"),
      nextOffset: offset + end,
      complete: options.finished && offset + end >= size,
    };
  } finally {
    await handle.close();
  }
}
