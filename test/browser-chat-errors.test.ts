/**
 * The chat's errors in Chromium against real `cql-agent serve` processes: a 4,097-character
 * message (the server's 422 and its Portuguese detail), the rate limit (429 and its wait) and a
 * server that stopped (the lost connection). The typed message is never lost.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { chat, errors } from '../src/texts/web.js';
import { type ApiProcess, startApiProcess } from './support/api-process.js';
import {
  assertAccessible,
  assertCleanPage,
  browserTestOptions,
  launchBrowser,
  PHONE,
  screenshot,
  type TestBrowser,
} from './support/browser.js';
import { until } from './support/until.js';

async function send(page: Page, text: string): Promise<void> {
  await page.getByLabel(chat.inputLabel).fill(text);
  await page.getByRole('button', { name: chat.send }).click();
}

async function replies(page: Page, count: number): Promise<void> {
  await until(
    async () =>
      (await page.locator('.message-assistant').count()) === count &&
      !(await page.locator('#message').isDisabled()),
    `reply ${count}`,
    60000,
  );
}

const alert = (page: Page) => page.locator('.error[role="alert"]');

describe("the chat's errors in Chromium", browserTestOptions(), () => {
  let api: ApiProcess;
  let limited: ApiProcess;
  let browser: TestBrowser;

  before(async () => {
    [api, limited] = await Promise.all([
      startApiProcess({}),
      startApiProcess({ RATE_LIMIT_PER_MINUTE: '2' }),
    ]);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await Promise.all([api?.stop(), limited?.stop()]);
  });

  it("shows the server's detail for a 4,097-character message and keeps the text", async () => {
    const { page, watch } = await browser.open(`${api.base}/`, PHONE);
    const long = `A torneira pinga. ${'a'.repeat(4097 - 18)}`;
    assert.equal(long.length, 4097);
    await send(page, long);
    await alert(page).waitFor();
    const message = (await alert(page).locator('.error-message').textContent()) ?? '';
    assert.match(message, /4096/, 'the detail names the limit');
    assert.match(message, /mensagem/i, 'in Portuguese');
    assert.equal(await page.getByLabel(chat.inputLabel).inputValue(), long);
    assert.equal(
      await page.getByRole('button', { name: chat.retry }).count(),
      0,
      'sending the same text again would fail the same way',
    );
    await page.getByText(chat.counter(4097, 4096)).waitFor();
    const overflow = await page.evaluate<number>(
      'document.documentElement.scrollWidth - document.documentElement.clientWidth',
    );
    assert.equal(overflow, 0, 'a long unbroken text does not widen the page');
    assert.equal(await page.locator('.messages > li').count(), 0, 'nothing was added');
    assertCleanPage(watch);
    await assertAccessible(page);
    await screenshot(page, 'chat-error-422');
    await page.close();
  });

  it('shows the wait of the rate limit and keeps the message', async () => {
    const { page, watch } = await browser.open(`${limited.base}/`, PHONE);
    await send(page, 'a torneira está pingando');
    await replies(page, 1);
    await page.getByRole('button', { name: chat.no }).click();
    await replies(page, 2);
    await send(page, 'não');
    await alert(page).waitFor();
    const retry = alert(page).locator('button.button-primary');
    const wait = (await retry.textContent()) ?? '';
    const seconds = Number(/\((\d+) s\)/.exec(wait)?.[1]);
    assert.ok(seconds > 0 && seconds <= 60, `the retry waits for Retry-After: "${wait}"`);
    assert.equal(wait, errors.retryIn(seconds));
    assert.equal(await retry.isDisabled(), true);
    assert.match(
      (await alert(page).locator('.error-message').textContent()) ?? '',
      /minuto/,
      "the server's detail",
    );
    assert.equal(await page.getByLabel(chat.inputLabel).inputValue(), 'não');
    assert.equal(await page.getByLabel(chat.inputLabel).isDisabled(), false);
    assert.equal(await page.locator('.message-assistant').count(), 2);
    assertCleanPage(watch);
    await assertAccessible(page);
    await screenshot(page, 'chat-error-429');
    await page.close();
  });

  it('says the connection was lost when the server stops, keeps the text and offers a retry', async () => {
    const { page } = await browser.open(`${api.base}/`, PHONE);
    await send(page, 'a pia está entupida');
    await replies(page, 1);
    assert.equal(await api.stop(), 0);

    await send(page, 'não deu certo');
    await alert(page).waitFor();
    assert.equal(await alert(page).locator('.error-message').textContent(), errors.network);
    assert.equal(await page.getByLabel(chat.inputLabel).inputValue(), 'não deu certo');
    assert.equal(await page.locator('.messages > li').count(), 2, 'the failed turn left nothing');

    let refused = 0;
    page.on('requestfailed', (request) => {
      if (request.url().includes('/api/v1/chat/message')) refused++;
    });
    await page.getByRole('button', { name: chat.retry }).click();
    await until(
      async () => refused > 0 && !(await page.getByLabel(chat.inputLabel).isDisabled()),
      'the retry to be sent and to fail again',
    );
    await alert(page).waitFor();
    assert.equal(await page.getByLabel(chat.inputLabel).inputValue(), 'não deu certo');
    await assertAccessible(page);
    await screenshot(page, 'chat-error-connection-lost');
    await page.close();
  });
});
