import { chromium } from 'playwright-core';
const extra = JSON.parse(process.argv[2] ?? '[]');
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: extra, timeout: 30000 });
try {
  const page = await browser.newPage();
  page.on('console', (m) => console.log('console:', m.type(), m.text()));
  await page.goto('file:///work/main/build/browser/smoke.html');
  const r = await page.evaluate(async () => {
    const out = [];
    for (const o of [{}, {forceFallbackAdapter: true}, {powerPreference: 'low-power'}]) {
      const a = await navigator.gpu?.requestAdapter(o);
      out.push(a ? { ...Object.fromEntries(['vendor','architecture','device','description'].map(k => [k, a.info[k]])), fb: a.info.isFallbackAdapter } : null);
    }
    return out;
  });
  console.log(JSON.stringify(r));
} finally { await browser.close(); }
