import type { TestContext } from 'node:test';

/**
 * Integration tests need the real kernel mechanisms. On a laptop that lacks one, the test skips
 * and says why; in CI (CORRAL_REQUIRE_INTEGRATION=1) a missing mechanism is a failure, because
 * the CI hosts have everything and a skip there would hide a broken product.
 */
export function requireOrSkip(t: TestContext, missing: string | undefined): boolean {
  if (missing === undefined) return true;
  if (process.env.CORRAL_REQUIRE_INTEGRATION === '1') {
    throw new Error(`integration prerequisite missing in CI: ${missing}`);
  }
  t.skip(missing);
  return false;
}
