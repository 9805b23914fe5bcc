// The whole-model check every layer suite runs: loss (and accuracy), gradient,
// HVP (and the gradient the HVP pass writes beside it) and Gauss-Newton
// product of a device objective at θ along v, against the float64 layer
// reference, each as a relative max-norm error under `tol`.
import * as assert from 'uvu/assert';
import type { Backend } from '../../core/ts/backend/types.js';
import * as ref from '../reference/layers64.js';
import { relErr } from './gpu.js';
import { f64, upload } from './problem.js';
import type { ModelProblem } from './model64.js';

export interface Errors64 { grad: number; hvp: number; gnvp: number; hvSeparatesGn: number }

export async function checkAgainst64(be: Backend, p: ModelProblem, th: Float32Array, v: Float32Array,
                                     o: { tol: number; acc?: boolean }): Promise<Errors64> {
  const P = p.model.P;
  const tb = upload(be, th, 'θ'), vb = upload(be, v, 'v');
  const g = be.alloc(P, 'g'), hv = be.alloc(P, 'hv'), gn = be.alloc(P, 'gn'), g2 = be.alloc(P, 'g2');
  const args = [p.m64, f64(th), f64(p.X), f64(p.Y), p.N, p.loss] as const;
  try {
    const la = await p.obj.lossAcc(tb), r = ref.lossAcc64(...args);
    assert.ok(Math.abs(la.loss[0] - r.loss) <= 1e-5 * Math.abs(r.loss), `loss ${la.loss[0]} vs ${r.loss}`);
    if (o.acc) assert.ok(Math.abs(la.acc[0] - r.acc) < 1e-6, `acc ${la.acc[0]} vs ${r.acc}`);
    await p.obj.grad(tb, g);
    const wantG = ref.grad64(...args);
    const eg = relErr(await be.read(g), wantG);
    assert.ok(eg < o.tol, `grad rel err ${eg}`);
    await p.obj.hvp(tb, [vb], [hv], { grad: g2 });
    const want = ref.hvp64(...args, f64(v));
    const eh = relErr(await be.read(hv), want);
    assert.ok(eh < o.tol, `hvp rel err ${eh}`);
    assert.ok(relErr(await be.read(g2), wantG) < o.tol, 'grad from the hvp pass');
    await p.obj.hvp(tb, [vb], [gn], { gaussNewton: true });
    const wantGn = ref.gnvp64(...args, f64(v));
    const en = relErr(await be.read(gn), wantGn);
    assert.ok(en < o.tol, `gnvp rel err ${en}`);
    return { grad: eg, hvp: eh, gnvp: en, hvSeparatesGn: relErr(wantGn, want) };
  } finally {
    for (const b of [tb, vb, g, hv, gn, g2]) be.release(b);
  }
}
