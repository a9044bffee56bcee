// Assertions on thrown errors, shared by the tests of domain functions and adapters.
import { expect } from "vitest";
import { AppError, type ErrorCode } from "@/lib/errors";

/** What the promise rejected with; undefined when it resolved. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
}

/** Asserts that the promise rejects with an AppError of this code, and answers the error for further assertions. */
export async function expectAppError(promise: Promise<unknown>, code: ErrorCode): Promise<AppError> {
  const error = await rejectionOf(promise);
  expect(error).toBeInstanceOf(AppError);
  if (!(error instanceof AppError)) throw new Error(`expected an AppError, got ${String(error)}`);
  expect(error.code).toBe(code);
  return error;
}
