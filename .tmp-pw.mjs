import { chromium } from 'playwright-core';
const b = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
const ctx = await b.newContext({ httpCredentials: { username: 'op', password: 's3cret' }, viewport: { width: 1400, height: 900 } });
await ctx.route('**/*', (r) => (new URL(r.request().url()).hostname === '127.0.0.1' ? r.continue() : r.abort()));
const p = await ctx.newPage();
await p.goto('http://127.0.0.1:3917/queue/copy/' + process.argv[2]);
const triggers = p.locator('[data-base-ui-tooltip-trigger] > button');
await triggers.first().waitFor();
const n = await triggers.count();
let clicked = false;
for (let i = 0; i < n && !clicked; i++) {
  await triggers.nth(i).hover();
  try { await p.getByText('Retry', { exact: true }).waitFor({ timeout: 2000 }); } catch { continue; }
  await triggers.nth(i).click(); clicked = true;
}
await p.getByRole('alertdialog').getByRole('button', { name: 'Confirm' }).click();
const t0 = Date.now();
await p.getByText('Finished at').first().waitFor({ timeout: 30000 });
console.log('completed after', Date.now() - t0);
await p.waitForTimeout(3000);
await p.screenshot({ path: 'test-artifacts/explore-after.png', fullPage: true });
console.log((await p.innerText('body')).slice(0, 2500));
await b.close();
