// Shared by the tenant Redis tests: a resource, its password, and helpers that expect a typed failure. Not a test file
// itself (vitest collects *.test.ts only).

export const RESOURCE = "0f3c2a6e-8b1d-4c7e-9a5f-2d4b6c8e0a1b";
export const HEX = "0f3c2a6e8b1d4c7e9a5f2d4b6c8e0a1b";
export const PASSWORD = "tenant-password-0123456789";

export async function failure<T extends Error>(
  type: new (...args: never[]) => T,
  promise: Promise<unknown>,
): Promise<T> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof type) return err;
    throw err;
  }
  throw new Error(`expected a ${type.name}`);
}

export function thrown<T extends Error>(type: new (...args: never[]) => T, fn: () => unknown): T {
  try {
    fn();
  } catch (err) {
    if (err instanceof type) return err;
    throw err;
  }
  throw new Error(`expected a ${type.name}`);
}
