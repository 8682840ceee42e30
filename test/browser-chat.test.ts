/**
 * The chat at / in real Chromium against a `cql-agent serve` process (sessions in memory): a
 * repair to "resolvido" by keyboard only, another to the professional after three "não" on a
 * 360 px screen, a reload in the middle, a reset, a session the server does not know, the turn
 * in flight, and the page's headers. Each test saves a screenshot and runs axe-core.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { chat, errors } from '../src/texts/web.js';
import { type ApiProcess, startApiProcess } from './support/api-process.js';
import {
  assertAccessible,
  assertCleanPage,
  browserTestOptions,
  DESKTOP,
  launchBrowser,
  localStorageOf,
  PHONE,
  screenshot,
  setLocalStorage,
  type TestBrowser,
  tabTo,
} from './support/browser.js';
import { until } from './support/until.js';

const SESSION_KEY = 'cql-agent.chat.session';

/** The page's conversation as "role: first line" entries. */
async function conversation(page: Page): Promise<string[]> {
  const items = await page.locator('.messages > li').all();
  const lines = [];
  for (const item of items) {
    const role = (await item.getAttribute('class'))?.includes('message-user')
      ? 'user'
      : 'assistant';
    const text = (await textOf(item.locator('.bubble p, .bubble li').first()))?.trim();
    lines.push(`${role}: ${text}`);
  }
  return lines;
}

/** The text of the first element a locator finds ('' when it has none). */
async function textOf(locator: Locator): Promise<string> {
  return (await locator.first().textContent()) ?? '';
}

/** Waits until `count` replies are complete: none being written, the input enabled again. */
async function waitForReplies(page: Page, count: number): Promise<void> {
  await until(
    async () =>
      (await page.locator('.message-assistant').count()) === count &&
      (await page.locator('.bubble-streaming').count()) === 0 &&
      !(await page.locator('#message').isDisabled()),
    `reply ${count} in the page`,
    60000,
  );
}

async function send(page: Page, text: string): Promise<void> {
  await page.getByLabel(chat.inputLabel).fill(text);
  await page.getByRole('button', { name: chat.send }).click();
}

function heldSession(storage: Record<string, string>): { id: string; token: string | null } {
  const raw = storage[SESSION_KEY];
  assert.ok(raw, 'the page keeps its session in localStorage');
  return JSON.parse(raw) as { id: string; token: string | null };
}

describe('the chat in Chromium (sessions in memory)', browserTestOptions(), () => {
  let api: ApiProcess;
  let browser: TestBrowser;

  before(async () => {
    api = await startApiProcess({});
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await api?.stop();
  });

  it('serves the page with its own policy, over plain HTTP', async () => {
    const response = await fetch(`${api.base}/`, { headers: { accept: 'text/html' } });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
    const csp = response.headers.get('content-security-policy') ?? '';
    assert.doesNotMatch(csp, /upgrade-insecure-requests|unsafe-inline/);
    assert.match(csp, /script-src 'self'/);
    const json = await fetch(`${api.base}/`);
    assert.equal(
      ((await json.json()) as { docs: string }).docs,
      '/docs',
      'JSON clients keep the service description',
    );
  });

  it('takes a repair to "resolvido" with the keyboard only', async () => {
    const { page, watch } = await browser.open(`${api.base}/`, DESKTOP);
    await page.getByRole('heading', { name: chat.welcomeTitle }).waitFor();
    await tabTo(page, '#message');
    await page.keyboard.type('a torneira da cozinha está pingando');
    await page.keyboard.press('Enter');
    await waitForReplies(page, 1);

    assert.deepEqual(await conversation(page), [
      'user: a torneira da cozinha está pingando',
      'assistant: Torneira pingando: Trocar o courinho (vedante) da torneira',
    ]);
    const steps = page.locator('.message-assistant ol.reply-steps > li');
    assert.equal(await steps.count(), 6);
    assert.match(await textOf(steps.first()), /^Feche o registro/);
    assert.match(await textOf(page.locator('.sources')), /Torneira pingando/);
    await page.locator('.badge-attempt').getByText(chat.attempt(1, 3)).waitFor();
    assert.equal(
      await page.evaluate('document.activeElement?.id'),
      'message',
      'the focus is back in the box after the reply',
    );

    await tabTo(page, `button:text-is("${chat.yes}")`);
    await page.keyboard.press('Enter');
    await waitForReplies(page, 2);
    assert.match(await textOf(page.locator('.message-assistant').last()), /resolvido/);
    await page.locator('.badge-ok', { hasText: chat.stateResolved }).waitFor();
    assert.equal(await page.getByRole('button', { name: chat.yes }).count(), 0);
    assert.equal(await page.locator('.badge-attempt').getByText(chat.attempt(1, 3)).count(), 0);

    assert.match(
      await textOf(page.locator('[aria-live="polite"]')),
      /Resposta do assistente: Que ótimo/,
      'the reply is announced to screen readers',
    );
    assertCleanPage(watch);
    await assertAccessible(page);
    await screenshot(page, 'chat-resolved-desktop');
    await page.close();
  });

  it('sends a person to a professional after three "não", on a 360 px screen', async () => {
    const { page, watch } = await browser.open(`${api.base}/`, PHONE);
    await send(page, 'o disjuntor desarma toda hora');
    await waitForReplies(page, 1);
    const warning = page.locator('.message-assistant .reply-warning');
    assert.equal(await warning.count(), 1, 'the safety warning is set apart');
    assert.equal(await warning.getAttribute('aria-label'), chat.warningLabel);
    assert.match(await textOf(warning), /Atenção:/);

    await page.getByRole('button', { name: chat.no }).click();
    await waitForReplies(page, 2);
    await page.locator('.badge-attempt').getByText(chat.attempt(2, 3)).waitFor();

    await send(page, 'não');
    await waitForReplies(page, 3);
    await page.locator('.badge-attempt').getByText(chat.attempt(3, 3)).waitFor();

    await page.getByRole('button', { name: chat.no }).click();
    await waitForReplies(page, 4);
    await page.locator('.badge-stop', { hasText: chat.stateProfessional }).waitFor();
    assert.match(await textOf(page.locator('.message-assistant').last()), /profissional/);
    assert.equal(await page.getByRole('button', { name: chat.no }).count(), 0);

    const overflow = await page.evaluate<number>(
      'document.documentElement.scrollWidth - document.documentElement.clientWidth',
    );
    assert.equal(overflow, 0, 'nothing is wider than a 360 px screen');
    const lastBox = await page.locator('.message-assistant').last().boundingBox();
    const mainBox = await page.locator('.chat-main').boundingBox();
    assert.ok(lastBox && mainBox);
    assert.ok(lastBox.y < mainBox.y + mainBox.height, 'the newest reply is scrolled into view');
    assertCleanPage(watch);
    await assertAccessible(page);
    await screenshot(page, 'chat-professional-phone');
    await page.close();
  });

  it('keeps the conversation across a reload, then starts a new problem', async () => {
    const { page, watch } = await browser.open(`${api.base}/`, PHONE);
    await send(page, 'a pia da cozinha está entupida');
    await waitForReplies(page, 1);
    const before = await conversation(page);
    const held = heldSession(await localStorageOf(page));

    await page.reload();
    await waitForReplies(page, 1);
    assert.deepEqual(await conversation(page), before);
    await page.locator('.badge-attempt').getByText(chat.attempt(1, 3)).waitFor();
    await page.getByRole('button', { name: chat.yes }).waitFor();
    assert.deepEqual(heldSession(await localStorageOf(page)), held);

    await page.getByRole('button', { name: chat.newProblemLabel }).click();
    await page.getByText(chat.resetDone).waitFor();
    assert.deepEqual(await conversation(page), []);
    await page.getByRole('heading', { name: chat.welcomeTitle }).waitFor();
    const history = await fetch(`${api.base}/api/v1/chat/history/${held.id}`, {
      headers: held.token ? { 'x-session-token': held.token } : {},
    });
    assert.equal(history.status, 200);
    const body = (await history.json()) as { state: string; messages: unknown[] };
    assert.deepEqual([body.state, body.messages], ['new_problem', []], 'the server reset it too');

    assertCleanPage(watch);
    await assertAccessible(page);
    await screenshot(page, 'chat-after-reset');
    await page.close();
  });

  it('starts over, saying why, when the held session is unknown to the server', async () => {
    const { page, watch } = await browser.open(`${api.base}/`, PHONE);
    await setLocalStorage(page, {
      [SESSION_KEY]: JSON.stringify({ id: 'web-never-existed', token: 'not-a-token' }),
    });
    await page.reload();
    await page.getByText(errors.sessionGone).waitFor();
    assert.deepEqual(await conversation(page), []);
    assert.equal(
      (await localStorageOf(page))[SESSION_KEY],
      undefined,
      'the stale session is dropped',
    );

    await send(page, 'a lâmpada não acende');
    await waitForReplies(page, 1);
    assert.notEqual(heldSession(await localStorageOf(page)).id, 'web-never-existed');
    assertCleanPage(watch);
    await assertAccessible(page);
    await screenshot(page, 'chat-session-gone');
    await page.close();
  });

  it('shows the message at once and waits, input disabled, while the reply is on its way', async () => {
    const { page, watch } = await browser.open(`${api.base}/`, PHONE);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const routed: string[] = [];
    await page.route('**/api/v1/chat/message**', async (route) => {
      routed.push(new URL(route.request().url()).pathname);
      await gate;
      await route.continue();
    });
    const answered = page.waitForResponse((response) =>
      response.url().includes('/api/v1/chat/message'),
    );
    await send(page, 'a porta está rangendo');
    await page.getByText(chat.writing).waitFor();
    assert.deepEqual(await conversation(page), ['user: a porta está rangendo']);
    assert.equal(await page.getByLabel(chat.inputLabel).isDisabled(), true);
    assert.equal(await page.getByRole('button', { name: chat.sending }).isDisabled(), true);
    await screenshot(page, 'chat-reply-in-progress');

    release();
    const response = await answered;
    assert.deepEqual(routed, ['/api/v1/chat/message/stream'], 'the reply comes as a stream');
    assert.match(response.headers()['content-type'] ?? '', /^text\/event-stream/);
    await waitForReplies(page, 1);
    assert.equal(await page.getByLabel(chat.inputLabel).isDisabled(), false);
    assert.equal(await page.getByText(chat.writing).count(), 0);
    await page.unrouteAll();
    assertCleanPage(watch);
    await assertAccessible(page);
    await screenshot(page, 'chat-reply-arrived');
    await page.close();
  });
});
