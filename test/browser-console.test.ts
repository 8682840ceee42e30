/**
 * The operator's console at /console in Chromium against `cql-agent serve` with ADMIN_API_KEY:
 * nothing without the key, sign-in by a #key= link, the sessions listed, filtered, searched and
 * paged with the cursor, one opened, its TTL changed and deleted, and the store and outcomes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page, Route } from 'playwright-core';
import { operator } from '../src/texts/web.js';
import { type ApiProcess, startApiProcess } from './support/api-process.js';
import {
  assertAccessible,
  assertCleanPage,
  browserTestOptions,
  DESKTOP,
  launchBrowser,
  PHONE,
  screenshot,
  type TestBrowser,
} from './support/browser.js';
import { until } from './support/until.js';

const KEY = 'console-test-key-0123456789';
const KEY_STORAGE = 'cql-agent.console.key';

/** The ids in the sessions table, in order. */
async function listedIds(page: Page): Promise<string[]> {
  return page.locator('.sessions-table tbody th code').allTextContents();
}

/** Waits until the table shows exactly these ids (any order). */
async function waitForIds(page: Page, ids: string[]): Promise<void> {
  const wanted = [...ids].sort().join(',');
  await until(
    async () => (await listedIds(page)).sort().join(',') === wanted,
    `the table to list ${wanted}`,
  );
}

describe('the console in Chromium', browserTestOptions(), () => {
  let api: ApiProcess;
  let browser: TestBrowser;

  /** A conversation through the chat API, with the session's token when it gives one. */
  async function talk(sessionId: string, ...messages: string[]): Promise<void> {
    let token: string | undefined;
    for (const message of messages) {
      const response = await fetch(`${api.base}/api/v1/chat/message`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { 'x-session-token': token } : {}),
        },
        body: JSON.stringify({ message, session_id: sessionId }),
      });
      assert.equal(response.status, 200, await response.clone().text());
      token ??= response.headers.get('x-session-token') ?? undefined;
    }
  }

  const admin = (path: string, init: RequestInit = {}) =>
    fetch(`${api.base}${path}`, { ...init, headers: { authorization: `Bearer ${KEY}` } });

  before(async () => {
    api = await startApiProcess({ ADMIN_API_KEY: KEY });
    browser = await launchBrowser();
    await talk('alpha-1', 'a torneira está pingando');
    await talk('alpha-2', 'a pia está entupida', 'sim');
    await talk('beta-1', 'a tomada está sem energia', 'não', 'não', 'não');
  });
  after(async () => {
    await browser?.close();
    await api?.stop();
  });

  it('shows nothing without the key, and asks again when the key is refused', async () => {
    const { page, watch } = await browser.open(`${api.base}/console`, DESKTOP);
    const adminCalls: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes('/api/')) adminCalls.push(request.url());
    });
    await page.getByRole('heading', { name: operator.signInTitle }).waitFor();
    assert.equal(await page.locator('.sessions-table').count(), 0);

    await page.getByRole('button', { name: operator.signIn }).click();
    await page.getByText(operator.keyMissing).waitFor();
    assert.deepEqual(adminCalls, [], 'no admin call without a key');

    await page.getByLabel(operator.keyLabel).fill('a-wrong-key-0123456789');
    await page.getByRole('button', { name: operator.signIn }).click();
    await page.getByText(operator.keyRefused).waitFor();
    await page.getByRole('heading', { name: operator.signInTitle }).waitFor();
    assert.equal(await page.locator('.sessions-table tbody tr').count(), 0);
    assert.equal(await page.evaluate(`sessionStorage.getItem('${KEY_STORAGE}')`), null);
    assertCleanPage(watch);
    await assertAccessible(page);
    await screenshot(page, 'console-key-refused');
    await page.close();
  });

  it('signs in from a #key= link, which leaves the address bar, and lists the sessions', async () => {
    const { page, watch } = await browser.open(`${api.base}/console#key=${KEY}`, DESKTOP, {
      keepStorage: true,
    });
    await waitForIds(page, ['alpha-1', 'alpha-2', 'beta-1']);
    assert.doesNotMatch(page.url(), /key=/);
    assert.equal(await page.evaluate(`sessionStorage.getItem('${KEY_STORAGE}')`), KEY);
    assert.equal(
      await page.evaluate(`Object.values(localStorage).some((value) => value.includes('${KEY}'))`),
      false,
      'the key is kept for the tab only',
    );
    const row = page.locator('.sessions-table tbody tr', { hasText: 'beta-1' });
    assert.match(
      (await row.textContent()) ?? '',
      new RegExp(operator.states.max_attempts),
      'the state in words',
    );

    const ttl = row.locator('td.ttl');
    const first = await ttl.textContent();
    assert.match(first ?? '', /min/);
    await until(async () => (await ttl.textContent()) !== first, 'the TTL to count down');

    await page.getByLabel(operator.sessions.stateFilter).selectOption('resolved');
    await waitForIds(page, ['alpha-2']);
    await page.getByLabel(operator.sessions.stateFilter).selectOption('');
    await page.getByLabel(operator.sessions.prefix).fill('alpha-');
    await page.getByRole('button', { name: operator.sessions.search }).click();
    await waitForIds(page, ['alpha-1', 'alpha-2']);

    assertCleanPage(watch);
    await assertAccessible(page);
    await screenshot(page, 'console-sessions');

    await page.setViewportSize(PHONE);
    await until(
      async () =>
        (await page.evaluate<number>(
          'document.documentElement.scrollWidth - document.documentElement.clientWidth',
        )) === 0,
      'the console to fit a 360 px screen (the table scrolls inside its panel)',
    );

    await page.getByRole('button', { name: operator.signOut }).click();
    await page.getByRole('heading', { name: operator.signInTitle }).waitFor();
    assert.equal(await page.evaluate(`sessionStorage.getItem('${KEY_STORAGE}')`), null);
    await screenshot(page, 'console-signed-out-phone');
    await page.close();
  });

  it('pages through the listing with its cursor', async () => {
    const ids = Array.from({ length: 27 }, (_, index) => `page-${String(index).padStart(2, '0')}`);
    for (const id of ids) await talk(id, 'a porta está rangendo');
    const { page, watch } = await browser.open(`${api.base}/console#key=${KEY}`, DESKTOP);
    await page.getByLabel(operator.sessions.prefix).fill('page-');
    await page.getByRole('button', { name: operator.sessions.search }).click();
    // The table first lists every session, then the filtered ones: waits for the latter.
    const filtered = async () => {
      const listed = await listedIds(page);
      return listed.length === 25 && listed.every((id) => id.startsWith('page-'));
    };
    await until(filtered, 'a first page of 25 sessions whose id starts with "page-"');
    const firstPage = await listedIds(page);

    await page.getByRole('button', { name: operator.sessions.next }).click();
    await until(async () => (await listedIds(page)).length === 2, 'a second page of 2');
    const secondPage = await listedIds(page);
    assert.deepEqual([...firstPage, ...secondPage].sort(), ids, 'every session once');
    assert.equal(
      await page.getByRole('button', { name: operator.sessions.next }).isDisabled(),
      true,
    );

    await page.getByRole('button', { name: operator.sessions.previous }).click();
    await until(async () => (await listedIds(page)).length === 25, 'the first page again');
    assert.deepEqual(await listedIds(page), firstPage);
    assertCleanPage(watch);
    await screenshot(page, 'console-paging');
    await page.close();
  });

  it('never shows a listing that answers after a later one', async () => {
    const { page, watch } = await browser.open(`${api.base}/console#key=${KEY}`, DESKTOP);
    await until(async () => (await listedIds(page)).length > 2, 'the first listing');
    // The next listing of every session is held back until the filtered one has been shown.
    let held: Route | undefined;
    await page.route(
      (url) => url.pathname === '/api/v1/chat/sessions' && !url.searchParams.has('prefix'),
      (route) => {
        held = route;
      },
    );
    await page.getByRole('button', { name: operator.sessions.refresh }).click();
    await until(() => held !== undefined, 'the refresh to be sent');
    await page.getByLabel(operator.sessions.prefix).fill('alpha-');
    await page.getByRole('button', { name: operator.sessions.search }).click();
    await waitForIds(page, ['alpha-1', 'alpha-2']);

    const late = page.waitForResponse((response) => response.request() === held?.request());
    await held?.continue();
    await (await late).finished();
    // Two frames after the late answer arrived: time for the page to have shown it, were it to.
    await page.evaluate(
      'new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))',
    );
    assert.deepEqual((await listedIds(page)).sort(), ['alpha-1', 'alpha-2']);
    assertCleanPage(watch);
    await page.close();
  });

  it('opens a session, gives it a new TTL and deletes it after a confirmation', async () => {
    const { page, watch } = await browser.open(`${api.base}/console#key=${KEY}`, DESKTOP);
    await page.getByLabel(operator.sessions.prefix).fill('alpha-');
    await page.getByRole('button', { name: operator.sessions.search }).click();
    await waitForIds(page, ['alpha-1', 'alpha-2']);
    await page.getByRole('button', { name: operator.sessions.openLabel('alpha-1') }).click();

    const dialog = page.getByRole('dialog', { name: operator.detail.title('alpha-1') });
    await dialog.waitFor();
    await dialog.getByText('a torneira está pingando').first().waitFor();
    assert.ok((await dialog.locator('.transcript li').count()) >= 2);

    await dialog.getByLabel(operator.detail.ttlLabel).fill('7200');
    await dialog.getByRole('button', { name: operator.detail.ttlApply }).click();
    await dialog.locator('.panel-status').waitFor();
    const detail = (await (await admin('/api/v1/sessions/alpha-1')).json()) as { ttl: number };
    assert.ok(detail.ttl > 3600 && detail.ttl <= 7200, `TTL on the server: ${detail.ttl}`);
    await assertAccessible(page);
    await screenshot(page, 'console-session-detail'); // the dialog, before the deletion

    await dialog.getByRole('button', { name: operator.detail.delete }).click();
    await dialog.getByText(operator.detail.confirmDelete('alpha-1')).waitFor();
    await dialog.getByRole('button', { name: operator.detail.confirm }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByText(operator.detail.deleted('alpha-1')).waitFor();
    await waitForIds(page, ['alpha-2']);
    assert.equal((await admin('/api/v1/sessions/alpha-1')).status, 404);
    assertCleanPage(watch);
    await assertAccessible(page);
    await screenshot(page, 'console-after-delete');
    await page.close();
  });

  it('shows the store and the outcomes, and refreshes the store by itself', async () => {
    const { page, watch } = await browser.open(`${api.base}/console#key=${KEY}`, DESKTOP);
    const store = page.locator('#armazenamento');
    await until(
      async () => (await store.locator('dl, .panel-error').count()) > 0,
      'the store panel to be filled',
    );
    assert.equal(await store.locator('.panel-error').count(), 0, String(await store.textContent()));
    await store.getByText(operator.store.memory, { exact: true }).waitFor();
    const stamp = store.locator('.panel-head .muted');
    const firstStamp = await stamp.textContent();
    await until(
      async () => (await stamp.textContent()) !== firstStamp,
      'the store to be polled again',
    );

    const outcomes = page.locator('#resultados');
    await until(
      async () => (await outcomes.locator('.charts, .panel-error').count()) > 0,
      'the outcomes panel to be filled',
    );
    assert.equal(
      await outcomes.locator('.panel-error').count(),
      0,
      String(await outcomes.textContent()),
    );
    await until(async () => (await outcomes.locator('canvas').count()) >= 3, 'three charts');
    await outcomes.getByText(operator.outcomes.showTable).first().click();
    assert.ok((await outcomes.locator('table').first().locator('tbody tr').count()) >= 1);
    assertCleanPage(watch);
    await assertAccessible(page);
    await screenshot(page, 'console-store-and-outcomes');
    await page.close();
  });
});
