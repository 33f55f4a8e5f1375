// `losscast report` in a real browser: the page opens from file://, logs no error, asks the
// network for nothing, draws every chart, answers a hover with a readout, hides a run when its
// legend entry is clicked, and shows a hostile run name as text. Saves a screenshot.
"use strict";
const assert = require("node:assert/strict");
const { chromium } = require("playwright-core");

const [page400, pageXss, screenshot, pageSize] = process.argv.slice(2);

async function open(browser, file) {
  const page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
  const problems = { errors: [], requests: [], dialogs: 0 };
  page.on("console", (m) => { if (m.type() === "error") problems.errors.push(m.text()); });
  page.on("pageerror", (e) => problems.errors.push(String(e)));
  page.on("request", (r) => {
    const u = r.url();
    if (!u.startsWith("file://") && !u.startsWith("data:")) problems.requests.push(u);
  });
  page.on("dialog", (d) => { problems.dialogs += 1; d.dismiss(); });
  await page.goto("file://" + file);
  await page.waitForFunction(() => window.losscastReport && window.losscastReport.charts_now().length > 0,
    null, { timeout: 10000 });
  return { page, problems };
}

// Pixels of a chart's canvas that are not background (transparent).
function inked(page, id) {
  return page.evaluate((id) => {
    const c = document.querySelector("#" + id + " canvas");
    if (!c) return -1;
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
    return n;
  }, id);
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    const { page, problems } = await open(browser, page400);
    const ids = await page.evaluate(() => [...document.querySelectorAll(".chart")].map((d) => d.id));
    assert.ok(ids.includes("chart-loss-0") && ids.includes("chart-lr-0") && ids.includes("chart-plan"), ids.join());
    for (const id of ids) {
      const n = await inked(page, id);
      assert.ok(n > 500, `chart ${id} drew ${n} pixels`);
    }
    // Hover the middle of the loss chart: the readout names the step and each run's values.
    const over = page.locator("#chart-loss-0 .u-over");
    await over.scrollIntoViewIfNeeded();
    const box = await over.boundingBox();
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.5);
    await page.mouse.move(box.x + box.width * 0.35, box.y + box.height * 0.5);
    const readout = await page.locator("#readout-0").textContent();
    assert.match(readout, /step \d+/, readout);
    assert.match(readout, /observed [\d.]+, predicted [\d.]+, error -?[\d.]+ %/, readout);
    // Toggle the first run off: its series are hidden in every chart, and the loss chart loses ink.
    const before = await inked(page, "chart-loss-0");
    await page.locator('#legend button[data-run="0"]').click();
    const shown = await page.evaluate(() => window.losscastReport.charts_now().map((c) => c.u.series[1].show));
    assert.ok(shown.slice(0, 3).every((s) => s === false), JSON.stringify(shown));
    const after = await inked(page, "chart-loss-0");
    assert.ok(after < before, `ink ${before} -> ${after}`);
    assert.equal(await page.locator('#legend button[data-run="0"]').getAttribute("aria-pressed"), "false");
    await page.locator('#legend button[data-run="0"]').click();
    // Log axes rebuild the charts without an error.
    await page.locator("#logx").check();
    assert.ok((await inked(page, "chart-loss-0")) > 500);
    await page.locator("#logx").uncheck();
    await page.locator("#chart-loss-0").scrollIntoViewIfNeeded();
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.4);
    await page.screenshot({ path: screenshot, fullPage: false });
    assert.deepEqual(problems.errors, [], "console errors");
    assert.deepEqual(problems.requests, [], "network requests");

    const xss = await open(browser, pageXss);
    const name = "</script><img src=x onerror=alert(1)>";
    assert.equal(await xss.page.locator("table.runs td").first().textContent(), name);
    assert.equal(await xss.page.locator("img").count(), 0, "an <img> element was created");
    assert.equal(xss.problems.dialogs, 0, "a dialog opened");
    assert.deepEqual(xss.problems.errors, [], "console errors");
    assert.deepEqual(xss.problems.requests, [], "network requests");
    // A size law's page: parity, compute and IsoFLOP charts, no errors, no requests.
    const size = await open(browser, pageSize);
    for (const id of ["chart-parity-0", "chart-compute-0", "chart-isoflop-0"]) {
      const n = await inked(size.page, id);
      assert.ok(n > 500, `chart ${id} drew ${n} pixels`);
    }
    assert.deepEqual(size.problems.errors, [], "console errors (size page)");
    assert.deepEqual(size.problems.requests, [], "network requests (size page)");
    console.log(`browser test: ${ids.length} charts drew, hover, toggle, log axes, XSS name as text; screenshot ${screenshot}`);
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error(e); process.exit(1); });
