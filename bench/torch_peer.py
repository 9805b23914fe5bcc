#!/usr/bin/env python3
"""PyTorch CPU peer of eoslab's CNN bench (bench/cnn.ts, bench/cnn-torch.ts):
full-batch gradient and exact HVP of cnn-relu with MSE loss, float32, on the
CPU with a fixed number of threads (torch.set_num_threads).

Model (eoslab's `cnn-relu`, the nn.Sequential it exports):
  Conv2d(3,32,3,padding=1) ReLU MaxPool2d(2) Conv2d(32,32,3,padding=1) ReLU
  MaxPool2d(2) Flatten Linear(2048,10);  L = (1/N) sum_i 1/2 ||f(x_i) - y_i||^2.
theta / v: the state dict flattened in order (0.weight, 0.bias, 3.weight,
3.bias, 7.weight, 7.bias), as eoslab's θ; the names, shapes and offsets come
from the spec file so both sides agree by construction.

Full batch over physical batches of B (as eoslab and the reference code):
  gradient: per batch, torch.autograd.grad of its share of L, summed;
  HVP: per batch, g = grad(L_b, create_graph=True), Hv_b = grad(<g, v>),
  summed (double backward; PyTorch has no forward-mode for these convs in 1.13).

Usage:
  torch_peer.py SPEC.json     (keys: params [{name, shape, off}], P, in_shape,
      classes, n, physical_batch, reps, threads, budget_s, x, y, theta, v
      (raw float32 LE files), check (optional PREFIX), check64 (bool))
Prints one JSON line: grad_ms, hvp_ms (medians), grad_times_ms, hvp_times_ms,
loss, threads, torch, mkldnn, n, reps; with `check`, writes PREFIX.grad.f32
and PREFIX.hvp.f32 and reports the float32-vs-float64 relative errors of
PyTorch itself (self_grad_rel_err_f64, self_hvp_rel_err_f64:
max|a-b| / max|b|, the float64 run on the same inputs in double precision).
"""
import json
import statistics
import sys
import time

import torch
import torch.nn.functional as F

LAYERS = ['0.weight', '0.bias', '3.weight', '3.bias', '7.weight', '7.bias']


def load(path, n, what):
    import numpy as np
    a = np.fromfile(path, dtype='<f4')
    if a.size != n:
        raise SystemExit(f'torch_peer: {what} {path} has {a.size} float32 values, expected {n}')
    return torch.from_numpy(a.copy())


def split(flat, spec):
    out = []
    for p in spec['params']:
        size = 1
        for s in p['shape']:
            size *= s
        out.append(flat[p['off']:p['off'] + size].view(*p['shape']))
    return out


def forward(x, ps):
    w0, b0, w3, b3, w7, b7 = ps
    h = F.max_pool2d(F.relu(F.conv2d(x, w0, b0, padding=1)), 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, w3, b3, padding=1)), 2)
    return F.linear(h.flatten(1), w7, b7)


def batch_loss(x, y, ps, n):
    r = forward(x, ps) - y
    return 0.5 * (r * r).sum() / n


def grad(X, Y, ps, n, B):
    acc, loss = None, 0.0
    for r0 in range(0, n, B):
        L = batch_loss(X[r0:r0 + B], Y[r0:r0 + B], ps, n)
        gs = torch.autograd.grad(L, ps)
        acc = list(gs) if acc is None else [a.add_(g) for a, g in zip(acc, gs)]
        loss += float(L)
    return acc, loss


def hvp(X, Y, ps, vs, n, B):
    acc = None
    for r0 in range(0, n, B):
        L = batch_loss(X[r0:r0 + B], Y[r0:r0 + B], ps, n)
        gs = torch.autograd.grad(L, ps, create_graph=True)
        gv = sum((g * v).sum() for g, v in zip(gs, vs))
        hs = torch.autograd.grad(gv, ps)
        acc = list(hs) if acc is None else [a.add_(h) for a, h in zip(acc, hs)]
    return acc


def flat(ts):
    return torch.cat([t.reshape(-1) for t in ts])


def time_reps(fn, reps, budget_s):
    t0 = time.perf_counter()
    fn()  # warm-up (oneDNN primitive creation, allocator)
    warm = (time.perf_counter() - t0) * 1e3
    times, start = [], time.perf_counter()
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
        if len(times) >= 2 and (time.perf_counter() - start) + times[-1] / 1e3 > budget_s:
            break
    return warm, times


def rel_err(a, b):
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-30))


def main(argv):
    spec = json.load(open(argv[0])) if argv and argv[0] != '-' else json.load(sys.stdin)
    names = [p['name'] for p in spec['params']]
    if names != LAYERS:
        raise SystemExit(f'torch_peer: only cnn-relu is implemented (params {LAYERS}), got {names}')
    threads = int(spec.get('threads') or 2)
    torch.set_num_threads(threads)
    n, B, P = spec['n'], spec['physical_batch'], spec['P']
    C, H, W = spec['in_shape']
    c = spec['classes']
    X = load(spec['x'], n * C * H * W, 'X').view(n, C, H, W)
    Y = load(spec['y'], n * c, 'Y').view(n, c)
    theta = load(spec['theta'], P, 'theta')
    v = load(spec['v'], P, 'v')
    ps = [t.clone().requires_grad_(True) for t in split(theta, spec)]
    vs = split(v, spec)
    out = {
        'torch': torch.__version__, 'threads': torch.get_num_threads(), 'n': n, 'physical_batch': B,
        'mkldnn': bool(torch.backends.mkldnn.is_available()),
        'blas': next((s.split('=', 1)[1] for s in torch.__config__.show().replace(',', '\n').split('\n') if 'BLAS_INFO' in s), None),
    }
    if spec.get('check'):
        g, loss = grad(X, Y, ps, n, B)
        h = hvp(X, Y, ps, vs, n, B)
        flat(g).detach().numpy().astype('<f4').tofile(spec['check'] + '.grad.f32')
        flat(h).detach().numpy().astype('<f4').tofile(spec['check'] + '.hvp.f32')
        out['loss'] = loss
        if spec.get('check64'):
            ps64 = [t.detach().double().requires_grad_(True) for t in ps]
            g64, _ = grad(X.double(), Y.double(), ps64, n, B)
            h64 = hvp(X.double(), Y.double(), ps64, [t.double() for t in vs], n, B)
            out['self_grad_rel_err_f64'] = rel_err(flat(g).double(), flat(g64))
            out['self_hvp_rel_err_f64'] = rel_err(flat(h).double(), flat(h64))
    reps = int(spec.get('reps', 3))
    if reps > 0:
        budget = float(spec.get('budget_s', 120))
        box = {}

        def run_grad():
            box['loss'] = grad(X, Y, ps, n, B)[1]

        gw, gt = time_reps(run_grad, reps, budget / 2)
        hw, ht = time_reps(lambda: hvp(X, Y, ps, vs, n, B), reps, budget / 2)
        out.update({
            'grad_ms': statistics.median(gt), 'hvp_ms': statistics.median(ht),
            'grad_times_ms': [round(t, 2) for t in gt], 'hvp_times_ms': [round(t, 2) for t in ht],
            'grad_warm_ms': round(gw, 2), 'hvp_warm_ms': round(hw, 2), 'loss': box['loss'], 'reps': reps,
        })
    print(json.dumps(out))


if __name__ == '__main__':
    main(sys.argv[1:])
