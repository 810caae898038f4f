import assert from 'node:assert/strict';
import { test } from 'node:test';
import { intervalText, median, medianInterval } from '../../../bench/stats.js';

test('medianInterval: 20 samples at 95% are bounded by the 6th and 15th smallest', () => {
  const samples = Array.from({ length: 20 }, (_, i) => 20 - i); // unsorted on purpose
  const ci = medianInterval(samples);
  assert.ok(ci);
  assert.equal(ci.low, 6);
  assert.equal(ci.high, 15);
  // 1 - 2 * P(Binomial(20, 1/2) <= 5) = 1 - 2 * 21700 / 2^20
  assert.ok(Math.abs(ci.coverage - (1 - (2 * 21700) / 2 ** 20)) < 1e-12);
});

test('medianInterval: too few samples for the confidence give no interval', () => {
  // With 5 samples the widest interval (min..max) covers only 1 - 2/32 = 93.75%.
  assert.equal(medianInterval([1, 2, 3, 4, 5]), undefined);
  const six = medianInterval([1, 2, 3, 4, 5, 6]);
  assert.deepEqual([six?.low, six?.high], [1, 6]);
});

test('median averages the middle two of an even count; intervalText is empty without an interval', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(intervalText([1, 2, 3]), '');
  assert.equal(intervalText([1, 2, 3, 4, 5, 6]), ' (97% interval 1.000-6.000)');
});
