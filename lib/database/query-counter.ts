// Counts the SQL statements a piece of code issues, so tests can assert that list endpoints stay at a constant
// number of queries (the N+1 guard). The pg client used by Prisma reports each statement here.
import { AsyncLocalStorage } from "node:async_hooks";

type Counter = { count: number; statements: string[] };

const storage = new AsyncLocalStorage<Counter>();

export function recordStatement(sql: string): void {
  const counter = storage.getStore();
  if (!counter) return;
  counter.count += 1;
  counter.statements.push(sql);
}

/** Runs fn and returns its result with the number (and text) of SQL statements it issued. */
export async function countQueries<T>(
  fn: () => Promise<T>,
): Promise<{ result: T; count: number; statements: string[] }> {
  const counter: Counter = { count: 0, statements: [] };
  const result = await storage.run(counter, fn);
  return { result, count: counter.count, statements: counter.statements };
}
