import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../../../src/errors.js';
import { comment, form, print, printProfile, quote, str, sym } from '../../../../src/platform/darwin/sbpl.js';
import { readAll } from '../../../helpers/sexpr.js';

describe('SBPL printing', () => {
  it('escapes backslashes and double quotes in string literals, and nothing else', () => {
    assert.equal(quote('/a "b" \\c é'), '"/a \\"b\\" \\\\c é"');
    assert.deepEqual(readAll(quote('/a "b" \\c é')), [{ str: '/a "b" \\c é' }]);
  });

  it('refuses control characters with a ConfigError naming the field', () => {
    assert.throws(
      () => quote('/x\ny', '--rw'),
      (err: unknown) => err instanceof ConfigError && err.field === '--rw' && /U\+000A/.test(err.message),
    );
    assert.throws(() => quote('/x\u009by'), /U\+009B/);
  });

  it('puts each filter of a long rule on its own line', () => {
    assert.equal(
      print(form('allow', sym('file-read*'), form('subpath', str('/a')), form('subpath', str('/b')))),
      '(allow file-read*\n  (subpath "/a")\n  (subpath "/b"))',
    );
    assert.equal(
      print(form('allow', sym('file-read*'), form('subpath', str('/a')))),
      '(allow file-read* (subpath "/a"))',
    );
  });

  it('refuses symbols that are not plain SBPL names and multi-line comments', () => {
    assert.throws(() => sym('allow) (allow default'));
    assert.throws(() => comment('one\n(allow default)'));
  });

  it('prints comments and collapses blank runs', () => {
    assert.equal(
      printProfile([comment('x'), { kind: 'blank' }, { kind: 'blank' }, form('deny', sym('default'))]),
      '; x\n\n(deny default)\n',
    );
  });
});
