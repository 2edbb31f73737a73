// The officer page in headless Chromium, as an officer uses it on a phone. Driven by
// tests/tests/keyserver_admin_page.rs, which starts the server and checks what this prints.
//
//   node admin_page.mjs issue URL NAME PASSWORD ONSET [SCREENSHOT.png] [REGION]
//     signs in (after a wrong password), switches Vietnamese -> English, issues a "likely" code with the
//     onset date (and the case's province chosen in the region select), checks the counter went up;
//     prints {"code": "...", "codes_issued": N}
//   node admin_page.mjs check URL NAME PASSWORD
//     signs in with a fresh profile and prints the counters
//
// Exits non-zero with a message on stderr when the page does not behave.

import { withPage } from './chromium.mjs';

const [phase, url, name, password, onset, screenshot, region] = process.argv.slice(2);
if (!phase || !url || !name || !password) {
  console.error('usage: node admin_page.mjs issue|check URL NAME PASSWORD [ONSET] [SCREENSHOT]');
  process.exit(2);
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

const counters = async (page) => ({
  codes_issued: Number(await page.textContent('#stat-codes-issued')),
  codes_used: Number(await page.textContent('#stat-codes-used')),
  keys_published: Number(await page.textContent('#stat-keys-published')),
  keys_pending: Number(await page.textContent('#stat-keys-pending')),
});

await withPage({
  // A phone's screen.
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
}, async (page) => {

  // Vietnamese by default.
  await page.goto(`${url}admin`);
  check((await page.getAttribute('html', 'lang')) === 'vi', 'the page is not in Vietnamese by default');
  check((await page.textContent('#sign-in')).includes('Đăng nhập'), 'no Vietnamese sign-in button');

  // A wrong password is refused with a message, and no session starts.
  await page.fill('#name', name);
  await page.fill('#password', 'not-the-password');
  await page.click('#sign-in');
  await page.waitForSelector('#error');
  check((await page.textContent('#error')).includes('không đúng'), 'no message for a wrong password');
  check((await page.$('#issue')) === null, 'signed in with a wrong password');

  await page.fill('#name', name);
  await page.fill('#password', password);
  await page.click('#sign-in');
  await page.waitForSelector('#issue');
  check((await page.textContent('#officer')).trim() === name, 'the page does not say who is signed in');
  // The page's own style applies under its Content-Security-Policy.
  const green = await page.evaluate(
    () => getComputedStyle(document.querySelector('#issue')).backgroundColor,
  );
  check(green === 'rgb(11, 110, 79)', `the page's style was blocked (${green})`);
  const fits = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
  check(fits, 'the page is wider than a phone screen');

  if (phase === 'issue') {
    const before = await counters(page);
    await page.click('#lang-en');
    await page.waitForFunction(() => document.documentElement.lang === 'en');
    check((await page.textContent('#issue')).trim() === 'Issue code', 'the English page has no "Issue code"');
    await page.selectOption('#test-type', 'likely');
    if (onset) await page.fill('#onset', onset);
    if (region) {
      const offered = await page.$$eval('#region option', (options) => options.map((o) => o.value));
      check(offered.includes(''), 'the region select offers no national choice');
      check(offered.includes(region), `the region select does not offer ${region} (${offered})`);
      await page.selectOption('#region', region);
    }
    await page.click('#issue');
    await page.waitForSelector('#new-code');
    const code = (await page.textContent('#new-code')).trim();
    check(/^[0-9]{8}$/.test(code), `the code ${code} is not 8 digits`);
    check((await page.textContent('#expires-at')).trim().length >= 16, 'no expiry shown');
    const after = await counters(page);
    check(after.codes_issued === before.codes_issued + 1, 'the issued counter did not go up');
    if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
    // Back to Vietnamese: the language is remembered, the page says the same in Vietnamese.
    await page.click('#lang-vi');
    await page.waitForFunction(() => document.documentElement.lang === 'vi');
    check((await page.textContent('#issue')).trim() === 'Cấp mã', 'the Vietnamese page has no "Cấp mã"');
    console.log(JSON.stringify({ code, codes_issued: after.codes_issued }));
  } else if (phase === 'check') {
    console.log(JSON.stringify(await counters(page)));
    // Signing out ends the session.
    await page.click('#sign-out');
    await page.waitForSelector('#password');
  } else {
    throw new Error(`unknown phase ${phase}`);
  }
});
