// The school's visitor-log page in headless Chromium. Driven by tests/tests/visitor_log_page.rs, which
// starts the server, registers visitors and checks what this prints.
//
//   node visitor_log_page.mjs URL VENUE_JSON KEY_FILE DAY VECTOR_JSON DOWNLOAD_DIR
//     checks the page's HPKE against RFC 9180's vector, opens the log for DAY with the two files, and
//     prints {"vector": ..., "status": ..., "rows": [...], "symptoms": [...], "csv": "...",
//     "requests": [...]}
//
// Exits non-zero with a message on stderr when the page does not behave.

import { readFileSync } from 'node:fs';
import { withPage } from './chromium.mjs';

const [url, venueJson, keyFile, day, vectorJson] = process.argv.slice(2);
if (!url || !venueJson || !keyFile || !day || !vectorJson) {
  console.error('usage: node visitor_log_page.mjs URL VENUE_JSON KEY_FILE DAY VECTOR_JSON');
  process.exit(2);
}

// RFC 9180 A.1.1 as openzone-wire's tests read it (wire/src/visitorlog/vectors/).
const entry = JSON.parse(readFileSync(vectorJson, 'utf8'))[0];
const fields = Object.fromEntries(entry.Setup.split('\n').map((l) => l.split(': ')));
const first = Object.fromEntries(entry.Encryptions.split('\n\n')[0].split('\n').map((l) => l.split(': ')));

await withPage({ acceptDownloads: true, timezoneId: 'Asia/Ho_Chi_Minh' }, async (page) => {
  const requests = [];
  page.on('request', (r) => requests.push({ url: r.url(), method: r.method(), body: r.postData() ?? '' }));
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));

  await page.goto(`${url}visitor-log`);
  await page.waitForFunction(() => window.openzoneHpke !== undefined);
  const vector = await page.evaluate(async ([f, e]) => ({
    setup: await window.openzoneHpke.setup(f.skRm, f.enc, f.info),
    pt: await window.openzoneHpke.open(f.skRm, f.enc, f.info, e.aad, e.ct),
  }), [fields, first]);
  const vectorOk = vector.setup.shared_secret === fields.shared_secret && vector.setup.key === fields.key
    && vector.setup.base_nonce === fields.base_nonce && vector.pt === first.pt;

  await page.setInputFiles('#files', [venueJson, keyFile]);
  await page.fill('#day', day);
  await page.click('#load');
  await page.waitForFunction(() => {
    const s = document.getElementById('status');
    return s.dataset.entries !== undefined || s.dataset.error !== undefined;
  });
  const status = await page.evaluate(() => ({ ...document.getElementById('status').dataset }));
  const rows = await page.$$eval('#entries tbody tr', (trs) => trs.map((tr) => ({
    cells: Array.from(tr.cells, (c) => c.textContent),
    class: tr.className,
  })));
  const symptoms = await page.$$eval('#symptom-list li', (lis) => lis.map((li) => li.textContent));
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#csv')]);
  const csv = readFileSync(await download.path(), 'utf8');
  if (problems.length) throw new Error(`page errors: ${problems.join('; ')}`);
  console.log(JSON.stringify({ vector_ok: vectorOk, vector, status, rows, symptoms, csv, requests }));
});
