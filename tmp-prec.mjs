import { chromium } from 'playwright-core';
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--enable-unsafe-webgpu','--use-webgpu-adapter=swiftshader'] });
const page = await browser.newPage();
await page.goto('file:///work/main/build/browser/smoke.html');
const r = await page.evaluate(async () => {
  const a = await navigator.gpu.requestAdapter(); const d = await a.requestDevice();
  const n = 1 << 16;
  const code = `
@group(0) @binding(0) var<storage, read_write> O: array<f32>;
@compute @workgroup_size(256) fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let i = g.x; if (i >= ${n}u) { return; }
  let u2 = f32(i) * (1.0 / 65536.0);
  O[6u*i] = cos(6.283185307179586 * u2);
  O[6u*i+1u] = -cos(6.283185307179586 * (u2 - 0.5));
  let u1 = f32(i + 1u) * (1.0 / 65536.0);
  O[6u*i+2u] = log(u1);
  O[6u*i+3u] = sqrt(-2.0 * log(u1));
  O[6u*i+4u] = sin(6.283185307179586 * (u2 - 0.5));
  O[6u*i+5u] = cos(3.1415927 * (2.0*u2 - 1.0));
}`;
  const m = d.createShaderModule({ code });
  const p = d.createComputePipeline({ layout: 'auto', compute: { module: m, entryPoint: 'main' } });
  const buf = d.createBuffer({ size: 6*4*n, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const st = d.createBuffer({ size: 6*4*n, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const bg = d.createBindGroup({ layout: p.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: buf } }] });
  const e = d.createCommandEncoder(); const ps = e.beginComputePass(); ps.setPipeline(p); ps.setBindGroup(0, bg); ps.dispatchWorkgroups(n/256); ps.end();
  e.copyBufferToBuffer(buf, 0, st, 0, 6*4*n); d.queue.submit([e.finish()]);
  await st.mapAsync(1); const o = new Float32Array(st.getMappedRange().slice(0)); d.destroy();
  const err = [0,0,0,0,0,0], at=[0,0,0,0,0,0];
  for (let i = 0; i < n; i++) {
    const u2 = i / 65536, u1 = (i+1)/65536;
    const ex = [Math.cos(2*Math.PI*u2), Math.cos(2*Math.PI*u2), Math.log(u1), Math.sqrt(-2*Math.log(u1)), Math.sin(2*Math.PI*(u2-0.5)), Math.cos(2*Math.PI*u2)];
    for (let k = 0; k < 6; k++) { const e2 = Math.abs(o[6*i+k]-ex[k]) / (k===2||k===3 ? Math.max(Math.abs(ex[k]),1e-30) : 1); if (e2 > err[k]) { err[k] = e2; at[k] = i; } }
  }
  return { err, at };
});
console.log(JSON.stringify(r));
await browser.close();
