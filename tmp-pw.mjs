import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const extra = JSON.parse(process.argv[2] ?? '[]');
const url = process.argv[3] ?? 'file:///work/main/build/browser/smoke.html';
const t0 = Date.now();
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: extra, timeout: 30000 });
try {
  const page = await browser.newPage();
  page.on('console', (m) => console.log('console:', m.type(), m.text()));
  await page.goto(url);
  const r = await page.evaluate(async () => {
    const a = await navigator.gpu?.requestAdapter();
    return { gpu: typeof navigator.gpu, secure: isSecureContext, info: a ? { ...Object.fromEntries(['vendor','architecture','device','description'].map(k => [k, a.info[k]])), fb: a.info.isFallbackAdapter } : null };
  });
  console.log(JSON.stringify(r));
  if (r.info) {
    await page.waitForFunction(() => window.__eoslabSmoke, null, { timeout: 30000 });
    const s = await page.evaluate(() => window.__eoslabSmoke);
    console.log(JSON.stringify(s).slice(0, 600));
  }
} finally { await browser.close(); console.log('ms', Date.now() - t0); }
