#!/usr/bin/env python3
"""PyTorch peer of eoslab's benches (bench/cnn.ts, bench/cnn-torch.ts,
bench/torch-gpu.ts, bench/sweep.ts): full-batch gradient and exact HVP with
MSE loss, float32, on the CPU with a fixed number of threads
(torch.set_num_threads) or, with `--device cuda`, on the GPU (timed with
torch.cuda.synchronize() around every rep); and a learning-rate sweep run as
K sequential GD trainings (spec key `sweep`).

Any eoslab architecture: with the spec key `torch` (the model's layers as
eoslab writes them, e.g. "nn.Linear(3072, 200)", the nn.Sequential of its
run metadata) the model is that nn.Sequential, called with θ's slices as its
state dict (functional_call). With the spec key `module` (resnet20,
resnet32) the model is bench/torch_models.py's CIFAR ResNet, θ's slices
loaded by their state-dict names (eoslab's names are the module's), in
train() mode: BatchNorm normalises each physical batch with its own
statistics, as eoslab's objective does (the running statistics it updates
are never read). Without either, the hand-written cnn-relu below.

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
  torch_peer.py [--device cpu|cuda] SPEC.json     (keys: params [{name, shape, off}], P, in_shape,
      torch or module (optional), classes, n, physical_batch, reps, threads, budget_s, x, y, theta, v
      (raw float32 LE files), check (optional PREFIX), check64 (bool))
Prints one JSON line: grad_ms, hvp_ms (medians), grad_times_ms, hvp_times_ms,
loss, threads, torch, mkldnn, n, reps; with `check`, writes PREFIX.grad.f32
and PREFIX.hvp.f32 and reports the float32-vs-float64 relative errors of
PyTorch itself (self_grad_rel_err_f64, self_hvp_rel_err_f64:
max|a-b| / max|b|, the float64 run on the same inputs in double precision).
Sweep (`sweep`: {lrs, steps, theta0: file of K*P float32}): K GD runs one
after another, each `steps` updates from its θ0 with the full-batch loss
read every step (rows 0..steps, as eoslab's run loop); prints sweep_ms (all
K, after a 2-step warm-up run), sweep_member_ms and sweep_final_loss.
"""
import json
import statistics
import sys
import time

import torch
import torch.nn.functional as F

DEVICE = torch.device('cpu')
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


FORWARD = forward


def functional_forward(net, names):
    """forward(x, ps) for the module net, its parameters (by state-dict name) taken from ps."""
    try:
        from torch.func import functional_call
    except ImportError:  # torch < 2.0
        from torch.nn.utils.stateless import functional_call
    return lambda x, ps: functional_call(net, dict(zip(names, ps)), (x,))


def sequential_forward(layers, names):
    """forward(x, ps) for the nn.Sequential eoslab describes, its parameters taken from ps."""
    return functional_forward(eval('nn.Sequential(' + ', '.join(layers) + ')', {'nn': torch.nn}), names)


def module_forward(name, classes, names):
    """forward(x, ps) for a torch_models.py module, refusing a θ whose names are not exactly its parameters."""
    from torch_models import build_module
    net = build_module(name, classes).to(DEVICE).train()
    want = [n for n, _ in net.named_parameters()]
    if sorted(want) != sorted(names):
        extra, missing = sorted(set(names) - set(want)), sorted(set(want) - set(names))
        raise SystemExit(f'torch_peer: θ\'s parameters are not {name}\'s (not in the module: {extra[:3]}; missing: {missing[:3]}): '
                         f'pass the eoslab model built from arch id {name}')
    fwd = {torch.float32: functional_forward(net, names)}

    def forward(x, ps):
        # BatchNorm's running-statistics buffers must match x's dtype (check64 runs in float64).
        if x.dtype not in fwd:
            fwd[x.dtype] = functional_forward(build_module(name, classes).to(device=DEVICE, dtype=x.dtype).train(), names)
        return fwd[x.dtype](x, ps)
    return forward


def batch_loss(x, y, ps, n):
    r = FORWARD(x, ps) - y
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


def sync():
    # CUDA kernels run asynchronously: a rep ends when the device has finished it.
    if DEVICE.type == 'cuda':
        torch.cuda.synchronize()


def time_reps(fn, reps, budget_s):
    t0 = time.perf_counter()
    fn()  # warm-up (oneDNN primitive creation / CUDA context and cuBLAS handles, allocator)
    sync()
    warm = (time.perf_counter() - t0) * 1e3
    times, start = [], time.perf_counter()
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append((time.perf_counter() - t0) * 1e3)
        if len(times) >= 2 and (time.perf_counter() - start) + times[-1] / 1e3 > budget_s:
            break
    return warm, times


def rel_err(a, b):
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-30))


def sweep(X, Y, spec, n, B):
    """K GD runs one after another (what a user's Python loop over learning rates does)."""
    sw = spec['sweep']
    lrs, steps, P = [float(x) for x in sw['lrs']], int(sw['steps']), spec['P']
    theta0 = load(sw['theta0'], len(lrs) * P, 'theta0').to(DEVICE)

    def train(k, lr, steps):
        ps = [t.clone().requires_grad_(True) for t in split(theta0[k * P:(k + 1) * P], spec)]
        loss = float('nan')
        for t in range(steps + 1):
            g, loss = grad(X, Y, ps, n, B)  # the loss read-back syncs every step, as eoslab records every row
            if t == steps or not loss < 1e8:
                break
            with torch.no_grad():
                for p, gi in zip(ps, g):
                    p.sub_(lr * gi)
        return loss

    train(0, lrs[0], 2)  # warm-up
    sync()
    member_ms, final = [], []
    t0 = time.perf_counter()
    for k, lr in enumerate(lrs):
        t1 = time.perf_counter()
        final.append(train(k, lr, steps))
        sync()
        member_ms.append(round((time.perf_counter() - t1) * 1e3, 2))
    return {'sweep_ms': (time.perf_counter() - t0) * 1e3, 'sweep_member_ms': member_ms, 'sweep_final_loss': final,
            'sweep_k': len(lrs), 'sweep_steps': steps}


def main(argv):
    global DEVICE, FORWARD
    if len(argv) >= 2 and argv[0] == '--device':
        DEVICE = torch.device(argv[1])
        argv = argv[2:]
    if DEVICE.type == 'cuda' and not torch.cuda.is_available():
        raise SystemExit(f'torch_peer: --device cuda but torch {torch.__version__} sees no CUDA device (a CPU-only build, or no driver)')
    spec = json.load(open(argv[0])) if argv and argv[0] != '-' else json.load(sys.stdin)
    names = [p['name'] for p in spec['params']]
    if spec.get('module'):
        FORWARD = module_forward(spec['module'], spec['classes'], names)
    elif spec.get('torch'):
        FORWARD = sequential_forward(spec['torch'], names)
    elif names != LAYERS:
        raise SystemExit(f'torch_peer: without the spec key torch or module only cnn-relu is built in (params {LAYERS}), got {names}')
    threads = int(spec.get('threads') or 2)
    torch.set_num_threads(threads)
    # fp32 means fp32: PyTorch lets cuDNN run convolutions in TF32 (10-bit mantissa inputs) on
    # Ampere and later by default, which is another precision; spec key tf32 opts in.
    tf32 = bool(spec.get('tf32'))
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cuda.matmul.allow_tf32 = tf32
    n, B, P = spec['n'], spec['physical_batch'], spec['P']
    shape = spec['in_shape']
    d = 1
    for s in shape:
        d *= s
    c = spec['classes']
    X = load(spec['x'], n * d, 'X').view(n, *shape).to(DEVICE)
    Y = load(spec['y'], n * c, 'Y').view(n, c).to(DEVICE)
    out = {
        'torch': torch.__version__, 'threads': torch.get_num_threads(), 'n': n, 'physical_batch': B, 'device': str(DEVICE),
        'device_name': torch.cuda.get_device_name(DEVICE) if DEVICE.type == 'cuda' else None,
        'mkldnn': bool(torch.backends.mkldnn.is_available()), 'tf32': tf32,
        'blas': next((s.split('=', 1)[1] for s in torch.__config__.show().replace(',', '\n').split('\n') if 'BLAS_INFO' in s), None),
    }
    if spec.get('sweep'):
        out.update(sweep(X, Y, spec, n, B))
        print(json.dumps(out))
        return
    theta = load(spec['theta'], P, 'theta').to(DEVICE)
    v = load(spec['v'], P, 'v').to(DEVICE)
    ps = [t.clone().requires_grad_(True) for t in split(theta, spec)]
    vs = split(v, spec)
    if spec.get('check'):
        g, loss = grad(X, Y, ps, n, B)
        h = hvp(X, Y, ps, vs, n, B)
        flat(g).detach().cpu().numpy().astype('<f4').tofile(spec['check'] + '.grad.f32')
        flat(h).detach().cpu().numpy().astype('<f4').tofile(spec['check'] + '.hvp.f32')
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
