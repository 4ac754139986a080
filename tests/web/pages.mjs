// Drives the transparency page (web/) in Debian's headless Chromium against a real
// deployment, for tests/e2e/web.sh. Prints one line per assertion, "PASS what" or
// "FAIL what: detail", which the shell script counts with the suite's ok/fail.
//   node pages.mjs --url http://127.0.0.1:PORT/web/ --audit audit.json --receipt r.json
//       --rating-receipt r2.json --other-log-receipt other.json --screens DIR
import { chromium } from 'playwright-core';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const URL0 = args.url;
const audit = JSON.parse(readFileSync(args.audit, 'utf8'));
const receiptText = readFileSync(args.receipt, 'utf8');
const otherLog = readFileSync(args['other-log-receipt'], 'utf8');
const ratingText = readFileSync(args['rating-receipt'], 'utf8');
const screens = args.screens;

let failed = 0;
const T0 = Date.now();
function pass(what) { console.log(`PASS ${what}${process.env.WEB_TIMES ? ` (${Date.now() - T0} ms)` : ''}`); }
function fail(what, detail) { failed++; console.log(`FAIL ${what}: ${detail}`); }
function eq(what, got, want) {
  const g = JSON.stringify(got), w = JSON.stringify(want);
  if (g === w) pass(what); else fail(what, `got ${g}, want ${w}`);
}
function truthy(what, v, detail) { if (v) pass(what); else fail(what, detail || 'false'); }

// --- the receipts the page must refuse, made from the valid one
const valid = JSON.parse(receiptText);
const entry = Buffer.from(valid.entry, 'base64');
entry[Math.floor(entry.length / 2)] ^= 0x01;
const altered = JSON.stringify({ ...valid, entry: entry.toString('base64') });
// the same checkpoint body, signed by another key under the log's name (C2SP signed note:
// key id = SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4])
const [body, sigs] = valid.checkpoint.split('\n\n');
const origin = body.split('\n')[0];
const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const pub = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
const kid = createHash('sha256').update(Buffer.concat([Buffer.from(origin + '\n'), Buffer.from([1]), pub]))
  .digest().subarray(0, 4);
const sig = sign(null, Buffer.from(body + '\n'), privateKey);
const otherLine = `— ${origin} ${Buffer.concat([kid, sig]).toString('base64')}`;
const lines = sigs.split('\n').filter((l) => l).map((l) => (l.startsWith(`— ${origin} `) ? otherLine : l));
const otherKey = JSON.stringify({ ...valid, checkpoint: `${body}\n\n${lines.join('\n')}\n` });

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  // a fresh --user-data-dir: playwright makes one per launch and removes it after
});
const problems = [];
async function newPage(opts = {}) {
  const ctx = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 }, ...opts });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  // a resource that fails to load is judged by its answer below, not by the console's line
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console: ${m.text()}`);
  });
  // 404 is expected for a report the deployment did not publish, and for a partial tile the
  // log no longer serves once the full one exists (tlog-tiles: the page then reads the full)
  page.on('response', (r) => {
    const u = r.url();
    if (r.status() >= 400 && !(r.status() === 404 && (u.endsWith('/web/audit.json') || /\/tile\/.*\.p\/\d+$/.test(u)))) {
      problems.push(`HTTP ${r.status()}: ${u}`);
    }
  });
  page.on('requestfailed', (r) => {
    // a request cut short by the test's next navigation is not the page's failure
    if (r.failure().errorText !== 'net::ERR_ABORTED') problems.push(`request failed: ${r.url()} ${r.failure().errorText}`);
  });
  page.on('request', (r) => { if (!r.url().startsWith(new URL(URL0).origin)) problems.push(`external request: ${r.url()}`); });
  return { ctx, page };
}
async function open(page, hash) {
  await page.goto(URL0 + hash);
  await page.waitForSelector('#log-size, #h-contexts ~ article, #h-receipt, #h-audit', { timeout: 20000 });
}
// on a phone: nothing wider than the screen (no sideways scrolling)
const wide = [];
async function fits(page, name) {
  const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (over > 1) wide.push(`${name} by ${over}px`);
}
async function shot(page, name) {
  if (name.includes('phone')) await fits(page, name);
  await page.screenshot({ path: join(screens, `${name}.png`), fullPage: true });
}

try {
  // --- the log view, desktop
  let { ctx, page } = await newPage();
  await page.goto(URL0);
  await page.waitForSelector('#log-size', { timeout: 20000 });
  eq('the page says its language', await page.getAttribute('html', 'lang'), 'en');
  eq('every string is in both languages', await page.evaluate(async () =>
    (await import(new URL('js/i18n.js', location.href).href)).missingKeys()), []);
  const size = Number(await page.textContent('#log-size'));
  truthy('the log view shows the verified checkpoint size', size >= audit.checkpoint.size, `size ${size}`);
  truthy('the witness quorum holds, checked in the browser',
    /holds: 2 of 2/.test(await page.textContent('#log-quorum')), await page.textContent('#log-quorum'));
  const keysText = await page.textContent('#view-log');
  truthy('the log key is shown with its id', keysText.includes(audit.log.vkey) && keysText.includes(audit.log.vkey.split('+')[1]));
  truthy('the page says where the keys come from', keysText.includes('GET /vkey and GET /witnesses'));
  await shot(page, 'log-desktop');

  // --- keyboard: the first Tab reaches the skip link, which leads to the content
  await page.keyboard.press('Tab');
  eq('the first Tab focuses the skip link', await page.evaluate(() => document.activeElement.className), 'skip');
  await page.keyboard.press('Enter');
  eq('the skip link moves the focus to the content', await page.evaluate(() => document.activeElement.id), 'main');

  // --- a key pinned at an earlier visit that differs: the page warns
  await page.evaluate(() => {
    const k = Object.keys(localStorage).find((x) => x.startsWith('onevoice.pins:'));
    const p = JSON.parse(localStorage.getItem(k));
    p.vkey = 'demo.onevoice.example/log+00000000+AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=';
    localStorage.setItem(k, JSON.stringify(p));
  });
  await page.reload();
  await page.waitForSelector('#view-log [role="alert"]', { timeout: 20000 }).catch(() => null);
  truthy('a changed log key is shown as a warning',
    /keys changed/.test(await page.textContent('#view-log')), 'no warning');

  // --- the contexts view: every count equals the auditor's recount
  await page.goto(URL0 + '#contexts');
  await page.waitForSelector('[data-ctx] [data-role="tally"]', { timeout: 20000 });
  await page.waitForSelector('[data-role="tally"] tr[data-key]', { state: 'attached' });
  for (const c of audit.contexts) {
    const rows = await page.$$eval(`article[data-ctx="${c.id}"] [data-role="tally"] tr[data-key]`,
      (trs) => trs.map((r) => [r.dataset.key, r.dataset.sum !== undefined
        ? [Number(r.dataset.count), Number(r.dataset.sum)] : Number(r.dataset.count)]));
    const got = Object.fromEntries(rows.sort());
    const want = Object.fromEntries(Object.entries(c.recount.result).sort());
    eq(`${c.id}: the counts on the page equal the auditor's recount`, got, want);
    const text = await page.textContent(`article[data-ctx="${c.id}"]`);
    truthy(`${c.id}: the page says it recounted the action entries itself`,
      /Checked in this browser: recounted from the log's \d+ action entries: the same numbers/.test(text));
  }
  // a vote still open: its counts "logged so far", no tally
  const open = await page.$$eval('article[data-ctx="web-open"][data-state="open"] [data-role="live"] tr[data-key]',
    (trs) => trs.map((r) => [r.dataset.key, Number(r.dataset.count)]));
  eq('an open vote shows its counts logged so far', open, [['yes', 0], ['no', 0]]);
  const round = audit.contexts.find((c) => c.rating_kind);
  const res = round.tallies[0].results;
  const art = `article[data-ctx="${round.id}"]`;
  await page.waitForSelector(`${art} .groups`, { timeout: 20000 });
  const bridging = await page.$$eval(`${art} tr[data-status]`, (trs) => trs.map((r) => ({
    id: r.dataset.id, status: r.dataset.status, text: r.querySelector('th').textContent })));
  eq('the bridging results place every statement', bridging.length, res.statements);
  eq('the statements marked helpful are the auditor\'s',
    bridging.filter((b) => b.status === 'helpful').map((b) => b.id).sort(), [...res.helpful].sort());
  truthy('each statement is shown with its text', bridging.every((b) => /[a-z]{4,}/i.test(b.text.replace(/^S\d+ /, '')) && !b.text.includes(b.id)));
  const sizes = await page.$$eval(`${art} tr[data-group]`, (trs) => trs.map((r) => Number(r.dataset.size)));
  eq('the opinion groups\' sizes are the auditor\'s', sizes, res.sizes);
  const rtext = await page.textContent(`${art} .results`);
  truthy('the page says it checked both result files against the tally\'s hashes',
    rtext.includes(`(${res.bridging.slice(0, 16)}`) && rtext.includes(`(${res.groups.slice(0, 16)}`));
  eq('each group has its representative statements',
    await page.$$eval(`${art} .rep`, (s) => s.map((x) => x.querySelectorAll('li').length > 0)), res.sizes.map(() => true));
  eq('the group map draws every participant', await page.$$eval(`${art} .groups svg circle`, (c) => c.length),
    round.tallies[0].results.sizes.reduce((a, b) => a + b, 0));
  await shot(page, 'contexts-desktop');

  // --- receipts
  // how: typed (pasted) and the button pressed, dropped as a file, or chosen with the file input
  async function checkReceipt(text, how = 'paste') {
    await page.click('#view-receipt button.secondary'); // Clear: no earlier verdict stays
    if (how === 'drop') {
      const dt = await page.evaluateHandle((t) => {
        const d = new DataTransfer();
        d.items.add(new File([t], 'receipt.json', { type: 'application/json' }));
        return d;
      }, text);
      await page.dispatchEvent('#receipt-drop', 'drop', { dataTransfer: dt });
    } else if (how === 'file') {
      await page.setInputFiles('#receipt-file', { name: 'receipt.json', mimeType: 'application/json', buffer: Buffer.from(text) });
    } else {
      await page.fill('#receipt-text', text);
      await page.click('#receipt-check');
    }
    await page.waitForSelector('#receipt-result [data-ok]', { timeout: 20000 });
    return {
      ok: await page.getAttribute('#receipt-result [data-ok]', 'data-ok'),
      reason: await page.getAttribute('#receipt-result [data-ok]', 'data-reason'),
      text: await page.textContent('#receipt-result'),
    };
  }
  await page.goto(URL0 + '#receipt');
  await page.waitForSelector('#receipt-text');
  await page.waitForFunction(() => /verified/.test(document.getElementById('status').textContent), null, { timeout: 20000 });
  let r = await checkReceipt(receiptText);
  eq('a valid receipt verifies', r.ok, 'true');
  truthy('it shows what was recorded and where', r.text.includes(`Log index${valid.index}`) && r.text.includes('a vote for'), r.text);
  await shot(page, 'receipt-desktop');
  r = await checkReceipt(ratingText);
  eq('a rating\'s receipt verifies', r.ok, 'true');
  truthy('... and shows the statement\'s text and the rating in words',
    r.text.includes('rated “Buses every ten minutes on every main line, all day”: agree'), r.text);
  r = await checkReceipt(altered);
  eq('a receipt with one byte changed in its entry fails: entry_mismatch', r.reason, 'entry_mismatch');
  truthy('... and says why in words', r.text.includes('the receipt was altered'), r.text);
  r = await checkReceipt(otherLog, 'drop');
  eq('a receipt from another log (dropped on the page) fails: wrong_origin', r.reason, 'wrong_origin');
  truthy('... and says why in words', r.text.includes('from another log'), r.text);
  r = await checkReceipt(otherKey, 'file');
  eq('a receipt whose checkpoint another key signed (chosen as a file) fails: bad_log_signature', r.reason, 'bad_log_signature');
  truthy('... and says why in words', r.text.includes("not signed by this log's key"), r.text);
  await shot(page, 'receipt-failure-desktop');
  // the receipt in the URL
  const b64url = Buffer.from(receiptText).toString('base64url');
  await page.goto(URL0 + '#receipt=' + b64url);
  await page.reload();
  await page.waitForSelector('#receipt-result [data-ok]', { timeout: 20000 });
  eq('a receipt given in the URL (#receipt=) verifies', await page.getAttribute('#receipt-result [data-ok]', 'data-ok'), 'true');

  // --- the audit report, chosen as a file
  await page.goto(URL0 + '#audit');
  await page.waitForSelector('#h-audit');
  await page.setInputFiles('#audit-file', args.audit);
  await page.waitForSelector('#audit-result .report', { timeout: 10000 });
  eq('the audit report chosen as a file is shown, clean', await page.getAttribute('#audit-result .report', 'data-ok'), 'true');
  truthy('it is recognised as the log this page checked', (await page.textContent('#audit-result')).includes('the same key this page checked'));
  // a report the deployment publishes beside the page (web/audit.json; the demo serves the
  // repository's web/, which holds none: the request is answered here)
  await page.route('**/web/audit.json', (rt) => rt.fulfill({ path: args.audit, contentType: 'application/json' }));
  await page.reload();
  await page.waitForSelector('#audit-result .report', { timeout: 10000 });
  truthy('a report published at /web/audit.json is shown as such',
    (await page.textContent('#audit-result')).includes('Published by this deployment at /web/audit.json'));
  await shot(page, 'audit-desktop');
  await ctx.close();

  // --- a phone, in Traditional Chinese (the browser's language)
  ({ ctx, page } = await newPage({ locale: 'zh-TW', viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 }));
  await page.goto(URL0);
  await page.waitForSelector('#log-size', { timeout: 20000 });
  eq('a zh-TW browser gets the Chinese page', await page.getAttribute('html', 'lang'), 'zh-TW');
  truthy('the Chinese page renders (a known zh-TW string is visible)',
    await page.isVisible('text=見證者門檻') && await page.isVisible('nav >> text=查驗收據'));
  await shot(page, 'log-phone-zh');
  await page.goto(URL0 + '#contexts');
  await page.waitForSelector(`${art} .groups`, { timeout: 20000 });
  await shot(page, 'contexts-phone-zh');
  await page.goto(URL0 + '#receipt');
  await page.waitForFunction(() => /已在本瀏覽器驗證/.test(document.getElementById('status').textContent), null, { timeout: 20000 });
  r = await checkReceipt(altered);
  truthy('the failure\'s reason is said in Chinese', r.text.includes('收據遭到竄改'), r.text);
  await shot(page, 'receipt-phone-zh');
  // the switch back to English
  await page.selectOption('#lang', 'en');
  eq('the language switch sets the page\'s lang', await page.getAttribute('html', 'lang'), 'en');
  truthy('... and its strings', await page.isVisible('nav >> text=Check a receipt'));
  await page.goto(URL0 + '#contexts');
  await page.waitForSelector(`${art} .groups`, { timeout: 20000 });
  await shot(page, 'contexts-phone');
  await page.goto(URL0 + '#audit');
  await page.waitForSelector('#h-audit');
  await shot(page, 'audit-phone');
  await ctx.close();

  eq('every view fits a phone\'s width', wide, []);
  eq('no script error, failed request or request outside the deployment', problems, []);
  const missing = ['log-desktop', 'contexts-desktop', 'receipt-desktop', 'audit-desktop', 'log-phone-zh',
    'contexts-phone-zh', 'receipt-phone-zh', 'contexts-phone', 'audit-phone'].filter((n) => !existsSync(join(screens, n + '.png')));
  eq('screenshots of every view saved', missing, []);
} catch (e) {
  fail('the browser test ran to its end', e.stack || e.message);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
