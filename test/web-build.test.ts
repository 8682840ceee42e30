/** The size report of the web build: what a page loads first is its entry script and the scripts
 * that entry imports statically, each counted once; lazy imports and stylesheets are not. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BUDGET_BYTES, firstLoad } from '../scripts/web-size.js';

const manifest = {
  'index.html': {
    file: 'assets/chat-1.js',
    isEntry: true,
    imports: ['_base.js'],
    dynamicImports: ['_later.js'],
    css: ['assets/chat-1.css'],
  },
  'console.html': {
    file: 'assets/console-1.js',
    isEntry: true,
    imports: ['_base.js', '_uplot.js'],
  },
  '_base.js': { file: 'assets/base-1.js', imports: ['_uplot.js'] },
  '_uplot.js': { file: 'assets/uplot-1.js', imports: ['_base.js'] },
  '_later.js': { file: 'assets/later-1.js' },
};

describe('firstLoad', () => {
  it('follows static imports once each, through cycles', () => {
    assert.deepEqual(firstLoad(manifest, 'index.html'), [
      'assets/chat-1.js',
      'assets/base-1.js',
      'assets/uplot-1.js',
    ]);
    assert.deepEqual(firstLoad(manifest, 'console.html'), [
      'assets/console-1.js',
      'assets/base-1.js',
      'assets/uplot-1.js',
    ]);
  });

  it('names a page missing from the manifest', () => {
    assert.throws(() => firstLoad(manifest, 'missing.html'), /no "missing.html"/);
  });

  it('holds the pages to 150 KB', () => {
    assert.equal(BUDGET_BYTES, 150_000);
  });
});
