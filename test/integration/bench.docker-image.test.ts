import { randomBytes } from "node:crypto";
import { describe, expect, test } from "vitest";
import { IMAGE, imagePresent } from "../../services/bench/docker.ts";

/**
 * `berth bench` stops before it starts when the engine lacks the image its Docker benchmarks run
 * (there is no registry to pull it from). `npm test`'s setup builds that image, as
 * `npm run bench`'s does.
 */
describe("the Docker benchmarks' image check", () => {
  test("finds the image the setup built, and not one the engine lacks", async () => {
    expect(await imagePresent()).toBe(true);
    expect(await imagePresent(IMAGE)).toBe(true);
    expect(await imagePresent(`berth-test/absent:${randomBytes(6).toString("hex")}`)).toBe(false);
  });
});
