import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatBytes, formatDuration, parseCpus, parseDuration, parseSize } from '../../../src/spec/units.js';

describe('size units', () => {
  it('reads binary and decimal suffixes, with or without B', () => {
    assert.equal(parseSize('256Mi'), 256 * 2 ** 20);
    assert.equal(parseSize('1G'), 1e9);
    assert.equal(parseSize('1Gi'), 2 ** 30);
    assert.equal(parseSize('64MiB'), 64 * 2 ** 20);
    assert.equal(parseSize('512k'), 512_000);
    assert.equal(parseSize('1.5Ki'), 1536);
    assert.equal(parseSize('4096'), 4096);
    assert.equal(parseSize(' 2 mi '), 2 * 2 ** 20);
  });

  it('refuses what is not a size', () => {
    for (const bad of ['banana', '', 'Mi', '-1Mi', '1e9', '12XB', '1..2M', '0x10', '1 2M']) {
      assert.equal(parseSize(bad), undefined, bad);
    }
  });

  it('formats limits back the way people write them', () => {
    assert.equal(formatBytes(256 * 2 ** 20), '256Mi');
    assert.equal(formatBytes(2 ** 30), '1Gi');
    assert.equal(formatBytes(1536), '1.5Ki');
    assert.equal(formatBytes(100), '100B');
  });
});

describe('duration units', () => {
  it('reads ms, s, m and h', () => {
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('10s'), 10_000);
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration('2m'), 120_000);
    assert.equal(parseDuration('1h'), 3_600_000);
    assert.equal(parseDuration(250), 250);
  });

  it('insists on a unit for strings, because "5" could mean seconds or milliseconds', () => {
    assert.equal(parseDuration('5'), undefined);
    assert.equal(parseDuration('5 parsecs'), undefined);
  });

  it('formats durations compactly', () => {
    assert.equal(formatDuration(1000), '1s');
    assert.equal(formatDuration(500), '500ms');
    assert.equal(formatDuration(1500), '1.5s');
    assert.equal(formatDuration(120_000), '2m');
  });
});

describe('cpu units', () => {
  it('reads fractions and millicores', () => {
    assert.equal(parseCpus('0.5'), 0.5);
    assert.equal(parseCpus('2'), 2);
    assert.equal(parseCpus('500m'), 0.5);
    assert.equal(parseCpus('half'), undefined);
  });
});
