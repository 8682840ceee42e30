/**
 * The chat in Chromium with sessions on a private redis-server: a conversation survives a reload
 * and a restart of the API, and goes on where it was (the next "não" is attempt 2).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { chat } from '../src/texts/web.js';
import { type ApiProcess, startApiProcess } from './support/api-process.js';
import {
  assertAccessible,
  assertCleanPage,
  browserTestOptions,
  launchBrowser,
  localStorageOf,
  PHONE,
  screenshot,
  setLocalStorage,
  type TestBrowser,
} from './support/browser.js';
import { useRedisServer } from './support/redis-fixture.js';
import { redisTestOptions } from './support/redis-server.js';
import { until } from './support/until.js';

async function replies(page: Page, count: number): Promise<void> {
  await until(
    async () =>
      (await page.locator('.message-assistant').count()) === count &&
      !(await page.locator('#message').isDisabled()),
    `reply ${count}`,
    60000,
  );
}

const messages = (page: Page) => page.locator('.messages .bubble').allTextContents();

/** Both, or the reason to skip. */
function options(): { skip?: string } {
  const browser = browserTestOptions();
  return browser.skip ? browser : redisTestOptions();
}

describe('the chat in Chromium, sessions on Redis', options(), () => {
  const redis = useRedisServer({ args: ['--appendonly', 'yes'] });
  let browser: TestBrowser;
  let first: ApiProcess;
  const apis: ApiProcess[] = [];
  const start = async () => {
    const api = await startApiProcess({
      USE_REDIS: 'true',
      REDIS_URL: redis.server.url(),
      // A busy machine must not look like a Redis that stopped answering.
      REDIS_COMMAND_TIMEOUT_MS: '5000',
    });
    apis.push(api);
    return api;
  };

  before(async () => {
    [browser, first] = await Promise.all([launchBrowser(), start()]);
  });
  after(async () => {
    await browser?.close();
    await Promise.all(apis.map((api) => api.stop()));
  });

  it('keeps a conversation across a reload and a restart of the API', async () => {
    const opened = await browser.open(`${first.base}/`, PHONE);
    let page = opened.page;
    await page.getByLabel(chat.inputLabel).fill('o ralo do banheiro está entupido');
    await page.getByRole('button', { name: chat.send }).click();
    await replies(page, 1);
    const conversation = await messages(page);
    assert.equal(conversation.length, 2);

    await page.reload();
    await replies(page, 1);
    assert.deepEqual(await messages(page), conversation, 'after a reload');
    assertCleanPage(opened.watch);

    // The browser keeps its session in localStorage, which belongs to the page's origin; the
    // restarted API listens on a new port, so the same storage is carried to that origin.
    const storage = await localStorageOf(page);
    await page.close();
    assert.equal(await first.stop(), 0);
    // The restart is what is under test.
    const second = await start();
    const reopened = await browser.open(`${second.base}/`, PHONE);
    page = reopened.page;
    await setLocalStorage(page, storage);
    await page.reload();
    await replies(page, 1);
    assert.deepEqual(await messages(page), conversation, 'after the restart');
    await page.locator('.badge-attempt').getByText(chat.attempt(1, 3)).waitFor();

    await page.getByRole('button', { name: chat.no }).click();
    await replies(page, 2);
    await page.locator('.badge-attempt').getByText(chat.attempt(2, 3)).waitFor();
    assertCleanPage(reopened.watch);
    await assertAccessible(page);
    await screenshot(page, 'chat-redis-after-restart');
    await page.close();
  });
});
