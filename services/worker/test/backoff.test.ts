import { describe, expect, it } from "vitest";
import { retryDelayMs } from "../src/backoff.js";

const policy = { baseMs: 1_000, maxMs: 60_000 };

describe("services/worker/src/backoff", () => {
  it.each([
    // attempt, random → delay: half the exponential ceiling fixed, the other half jittered.
    { attempt: 1, random: 0, delay: 500 },
    { attempt: 1, random: 0.999, delay: 1_000 },
    { attempt: 2, random: 0, delay: 1_000 },
    { attempt: 3, random: 0.5, delay: 3_000 },
    { attempt: 6, random: 0, delay: 16_000 },
    // Capped at maxMs however many attempts.
    { attempt: 7, random: 0.999, delay: 59_970 },
    { attempt: 30, random: 0, delay: 30_000 },
    { attempt: 30, random: 0.999, delay: 59_970 },
  ])("attempt $attempt, random $random → $delay ms", ({ attempt, random, delay }) => {
    expect(retryDelayMs(attempt, policy, () => random)).toBe(delay);
  });

  it("doubles the guaranteed wait with each attempt until the cap", () => {
    const floors = Array.from({ length: 10 }, (_, index) => retryDelayMs(index + 1, policy, () => 0));
    expect(floors).toEqual([500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000, 30_000]);
  });
});
