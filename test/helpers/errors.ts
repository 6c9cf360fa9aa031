import { SlipwayError } from "../../pipelines/src/errors.js";

/** The SlipwayError that `fn` throws. Any other error is rethrown; throwing nothing fails the test. */
export function thrown(fn: () => unknown): SlipwayError {
  try {
    fn();
  } catch (error) {
    if (error instanceof SlipwayError) return error;
    throw error;
  }
  throw new Error("expected a SlipwayError");
}

/** The SlipwayError that `promise` rejects with. Any other error is rethrown; resolving fails the test. */
export async function rejected(promise: Promise<unknown>): Promise<SlipwayError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SlipwayError) return error;
    throw error;
  }
  throw new Error("expected a SlipwayError");
}
