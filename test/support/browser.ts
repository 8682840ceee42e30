/**
 * Headless Chromium for the web app's browser tests: Debian's chromium (never a download) driven
 * by playwright-core, a fresh profile per test file, a screenshot of each test's last page under
 * test-results/screenshots/, an axe-core accessibility pass, and a watch on what a page asks for.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

/** Where the browser is. @default /usr/bin/chromium (Debian's package) */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const SCREENSHOTS = fileURLToPath(new URL('../../test-results/screenshots/', import.meta.url));

const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * `{ skip }` for describe() when chromium is missing. With REQUIRE_REDIS=1 (CI) a missing
 * chromium is an error instead of a skip, as a missing redis-server is.
 */
export function browserTestOptions(): { skip?: string } {
  if (existsSync(CHROMIUM_PATH)) return {};
  if (process.env.REQUIRE_REDIS === '1') {
    throw new Error(
      `REQUIRE_REDIS=1 but no chromium at ${CHROMIUM_PATH} (apt-get install chromium)`,
    );
  }
  return { skip: `chromium not found at ${CHROMIUM_PATH} (apt-get install chromium)` };
}

export interface TestBrowser {
  readonly context: BrowserContext;
  /**
   * A new tab of `size` CSS pixels at `url`, watched (see PageWatch), with the origin's
   * localStorage emptied first unless `keepStorage` (tests of one file share an origin and a
   * profile).
   */
  open(url: string, size?: Size, options?: { keepStorage?: boolean }): Promise<WatchedPage>;
  close(): Promise<void>;
}

/** What a page did besides what the test looks at: requests to other hosts, CSP violations,
 * uncaught errors. A clean page has none. */
export interface PageWatch {
  foreignRequests: string[];
  cspViolations: string[];
  pageErrors: string[];
}

export interface WatchedPage {
  page: Page;
  watch: PageWatch;
}

export interface Size {
  width: number;
  height: number;
}

/** A phone held in one hand. */
export const PHONE: Size = { width: 360, height: 740 };
export const DESKTOP: Size = { width: 1280, height: 900 };

const BUILT_APP = fileURLToPath(new URL('../../dist/web/index.html', import.meta.url));

export async function launchBrowser(): Promise<TestBrowser> {
  // Without a build the server answers the pages with a notice: say so here, not in a timeout.
  if (!existsSync(BUILT_APP)) {
    throw new Error('dist/web is not built: run "npm run build:web" first (npm test does)');
  }
  const profile = mkdtempSync(join(tmpdir(), 'cql-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ARGS,
    locale: 'pt-BR',
    viewport: PHONE,
  });
  // Waits by condition end when the page is ready; the deadline only ends a wait that would never
  // end, and a loaded machine renders slowly.
  context.setDefaultTimeout(60000);
  context.setDefaultNavigationTimeout(60000);
  return {
    context,
    async open(url, size = PHONE, { keepStorage = false } = {}) {
      const page = await context.newPage();
      await page.setViewportSize(size);
      const origin = new URL(url).origin;
      const watch: PageWatch = { foreignRequests: [], cspViolations: [], pageErrors: [] };
      page.on('request', (request) => {
        const target = new URL(request.url());
        if (target.protocol.startsWith('http') && target.origin !== origin) {
          watch.foreignRequests.push(request.url());
        }
      });
      page.on('console', (message) => {
        if (/Content.Security.Policy/i.test(message.text()))
          watch.cspViolations.push(message.text());
      });
      page.on('pageerror', (error) => watch.pageErrors.push(error.message));
      if (!keepStorage) {
        // Emptied before the page loads, so that what the page itself stores (a #key= link's
        // key) stays. sessionStorage is new with each tab anyway.
        const devtools = await context.newCDPSession(page);
        await devtools.send('Storage.clearDataForOrigin', {
          origin,
          storageTypes: 'local_storage',
        });
        await devtools.detach();
      }
      await page.goto(url);
      return { page, watch };
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** The page asked nothing of another host, broke no CSP rule, threw nothing. */
export function assertCleanPage(watch: PageWatch): void {
  assert.deepEqual(watch.foreignRequests, [], 'requests to other hosts');
  assert.deepEqual(watch.cspViolations, [], 'Content-Security-Policy violations');
  assert.deepEqual(watch.pageErrors, [], 'uncaught errors in the page');
}

/** Saves the page as test-results/screenshots/<name>.png; returns the path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

const AXE_SOURCE = readFileSync(
  createRequire(import.meta.url).resolve('axe-core/axe.min.js'),
  'utf8',
);

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/**
 * Runs axe-core in the page (through the DevTools protocol, which the page's CSP does not
 * govern) and returns its serious and critical violations.
 */
export async function seriousA11yViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate<AxeViolation[]>(`
    axe.run(document, { resultTypes: ['violations'] }).then((result) =>
      result.violations.map((violation) => ({
        id: violation.id,
        impact: violation.impact,
        help: violation.help,
        targets: violation.nodes.map((node) => String(node.target)),
      })),
    )
  `);
  return violations.filter((violation) => ['serious', 'critical'].includes(violation.impact ?? ''));
}

export async function assertAccessible(page: Page): Promise<void> {
  assert.deepEqual(
    await seriousA11yViolations(page),
    [],
    'axe-core: serious or critical violations',
  );
}

/** Presses Tab until the element matching `selector` has the focus (keyboard-only use). */
export async function tabTo(page: Page, selector: string, most = 30): Promise<void> {
  for (let presses = 0; presses < most; presses++) {
    if (
      await page
        .locator(selector)
        .evaluate((element) => element === element.ownerDocument.activeElement)
    ) {
      return;
    }
    await page.keyboard.press('Tab');
  }
  assert.fail(`Tab never reached ${selector} in ${most} presses`);
}

/** The page's localStorage as JSON (to carry a browser's state to a restarted server's port). */
export async function localStorageOf(page: Page): Promise<Record<string, string>> {
  return page.evaluate<Record<string, string>>('Object.fromEntries(Object.entries(localStorage))');
}

export async function setLocalStorage(page: Page, values: Record<string, string>): Promise<void> {
  await page.evaluate(
    `Object.entries(${JSON.stringify(values)}).forEach(([key, value]) => localStorage.setItem(key, value))`,
  );
}
