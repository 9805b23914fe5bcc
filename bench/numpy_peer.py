#!/usr/bin/env python3
"""Native-BLAS peer of eoslab's bench: full-batch gradient and exact HVP of an
fc-tanh MLP with MSE loss, in float32 NumPy (matmuls through NumPy's BLAS,
OpenBLAS in the usual wheels, with its default thread count = all cores).

Model (eoslab's, see docs/architecture.md, "The passes of a dense layer"):
  a_l = h_{l-1} W_lᵀ + b_l (rows = examples), h_l = tanh(a_l), identity output,
  L = (1/N) Σ_i ½‖f(x_i) − y_i‖².
Gradient: one full-batch forward + backward. HVP: Pearlmutter's R-operator,
forward (with tangent R{a_l}, R{h_l}) then backward with R{δ_l}; it does not
form the plain gradient ∇L (only the products Hv needs).

θ / v layout (eoslab's mlpLayout): for each layer l, W_l [out, in] row-major,
then b_l [out].

Usage:
  numpy_peer.py --sizes 3072,200,200,10 --n N --x X.f32 --y Y.f32 \
                --theta T.f32 --v V.f32 [--reps R] [--check PREFIX]
  All data files: raw float32 little-endian. Without --x/--y/--theta/--v the
  missing inputs are generated (NumPy RNG: not eoslab's data). A JSON object
  with the same keys (sizes as a list) may be given instead of the flags as
  argv[1] or on stdin with `-`.
  --check PREFIX writes PREFIX.grad.f32 and PREFIX.hvp.f32 (float32 LE raw).
  --reps 0 skips timing.
Prints one JSON line: {grad_ms, hvp_ms, loss, threads, threads_source, blas,
blas_core, numpy, n, reps, grad_times_ms, hvp_times_ms}.
"""
import argparse
import glob
import json
import os
import statistics
import sys
import time

import numpy as np

F32 = np.dtype('<f4')


def layout(sizes):
    """[(in, out, wOff, bOff)] and P, as core/ts/nn/mlp.ts mlpLayout (bias=true)."""
    layers, off = [], 0
    for l in range(len(sizes) - 1):
        i, o = sizes[l], sizes[l + 1]
        w_off = off
        off += i * o
        b_off = off
        off += o
        layers.append((i, o, w_off, b_off))
    return layers, off


def views(flat, layers):
    """Per-layer (W [out, in], b [out]) views into a flat parameter-space vector."""
    return [(flat[w:w + i * o].reshape(o, i), flat[b:b + o]) for (i, o, w, b) in layers]


def forward(X, params):
    """Hidden outputs h_1..h_{L-1} (tanh) and the output f = a_L."""
    hs, h = [], X
    for l, (W, b) in enumerate(params):
        a = h @ W.T
        a += b
        if l < len(params) - 1:
            np.tanh(a, out=a)
            hs.append(a)
        h = a
    return hs, h


def grad(X, Y, N, params, out):
    """Writes ∇L into `out` (flat, eoslab layout); returns L."""
    hs, f = forward(X, params)
    r = f - Y
    loss = 0.5 * float(np.vdot(r, r)) / N
    delta = r * np.float32(1.0 / N)
    g = views(out, layers_of(params))
    for l in range(len(params) - 1, -1, -1):
        W, _ = params[l]
        hp = X if l == 0 else hs[l - 1]
        gW, gb = g[l]
        np.matmul(delta.T, hp, out=gW)
        np.sum(delta, axis=0, out=gb)
        if l > 0:
            d = delta @ W
            d *= 1 - hp * hp  # σ′(a_{l-1}) = 1 − tanh²
            delta = d
    return loss


def hvp(X, Y, N, params, vparams, out):
    """Writes Hv into `out` (flat, eoslab layout) by the R-operator; returns L."""
    L = len(params)
    # Forward and tangent passes (R{h_0} = 0).
    hs, Ras, Rhs = [], [], []
    h, Rh = X, None
    for l, ((W, b), (V, c)) in enumerate(zip(params, vparams)):
        a = h @ W.T
        a += b
        Ra = h @ V.T
        if Rh is not None:
            Ra += Rh @ W.T
        Ra += c
        if l < L - 1:
            np.tanh(a, out=a)
            Rh = (1 - a * a) * Ra
            hs.append(a)
            Ras.append(Ra)
            Rhs.append(Rh)
        h = a
    f, RaL = h, Ra
    r = f - Y
    loss = 0.5 * float(np.vdot(r, r)) / N
    inv_n = np.float32(1.0 / N)
    delta = r * inv_n          # δ_L
    Rdelta = RaL * inv_n       # R{δ_L} = H_ℓ R{a_L} / N, H_ℓ = I for MSE
    hv = views(out, layers_of(params))
    for l in range(L - 1, -1, -1):
        W, _ = params[l]
        V, _ = vparams[l]
        hvW, hvb = hv[l]
        hp = X if l == 0 else hs[l - 1]
        np.matmul(Rdelta.T, hp, out=hvW)
        if l > 0:
            hvW += delta.T @ Rhs[l - 1]
        np.sum(Rdelta, axis=0, out=hvb)
        if l == 0:
            break
        WtD = delta @ W
        s1 = 1 - hp * hp
        s2 = -2 * hp * s1
        nRd = delta @ V
        nRd += Rdelta @ W
        nRd *= s1
        nRd += s2 * Ras[l - 1] * WtD
        WtD *= s1
        delta, Rdelta = WtD, nRd
    return loss


def layers_of(params):
    layers, off = [], 0
    for (W, _) in params:
        o, i = W.shape
        layers.append((i, o, off, off + i * o))
        off += i * o + o
    return layers


def blas_info():
    """(threads, threads_source, 'OpenBLAS x.y.z', core) of the BLAS NumPy calls."""
    try:
        from threadpoolctl import threadpool_info  # type: ignore
        for p in threadpool_info():
            if p.get('user_api') == 'blas':
                name = 'OpenBLAS' if p.get('internal_api') == 'openblas' else p.get('internal_api', 'blas')
                return p['num_threads'], 'threadpoolctl', f"{name} {p.get('version')}", p.get('architecture')
    except ImportError:
        pass
    version, core, threads, source = None, None, os.cpu_count(), 'os.cpu_count()'
    try:
        blas = np.show_config(mode='dicts')['Build Dependencies']['blas']
        cfg = blas.get('openblas configuration') or ''
        if 'openblas' in (blas.get('name') or '').lower() or cfg.startswith('OpenBLAS'):
            version = f"OpenBLAS {blas.get('version')}"
        else:
            version = f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # noqa: BLE001 - older NumPy: no mode='dicts'
        pass
    # The OpenBLAS NumPy's wheel bundles (already loaded by numpy): ask it directly.
    try:
        import ctypes
        libdir = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), 'numpy.libs')
        for path in glob.glob(os.path.join(libdir, '*openblas*')) + glob.glob(os.path.join(os.path.dirname(np.__file__), '.dylibs', '*openblas*')):
            lib = ctypes.CDLL(path)
            for prefix, suffix in (('scipy_openblas', '64_'), ('scipy_openblas', ''), ('openblas', '64_'), ('openblas', '')):
                fn = getattr(lib, f'{prefix}_get_num_threads{suffix}', None)
                if fn is None:
                    continue
                fn.restype = ctypes.c_int
                threads, source = fn(), f'{prefix}_get_num_threads{suffix}'
                cn = getattr(lib, f'{prefix}_get_corename{suffix}', None)
                if cn is not None:
                    cn.restype = ctypes.c_char_p
                    core = cn().decode()
                break
            if source != 'os.cpu_count()':
                break
    except Exception:  # noqa: BLE001
        pass
    return threads, source, version, core


def time_reps(fn, reps):
    fn()  # warm-up
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return times


def load(path, n, what):
    a = np.fromfile(path, dtype=F32)
    if a.size != n:
        raise SystemExit(f'numpy_peer: {what} {path} has {a.size} float32 values, expected {n}')
    return a.astype(np.float32, copy=False)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--sizes', default='3072,200,200,10')
    p.add_argument('--n', type=int, default=5000)
    p.add_argument('--reps', type=int, default=3)
    p.add_argument('--x')
    p.add_argument('--y')
    p.add_argument('--theta')
    p.add_argument('--v')
    p.add_argument('--check', help='write PREFIX.grad.f32 and PREFIX.hvp.f32')
    p.add_argument('--seed', type=int, default=0, help='for generated inputs')
    if len(argv) == 1 and not argv[0].startswith('--'):
        spec = json.loads(sys.stdin.read() if argv[0] == '-' else argv[0])
        if isinstance(spec.get('sizes'), list):
            spec['sizes'] = ','.join(str(s) for s in spec['sizes'])
        argv = [x for k, v in spec.items() if v is not None for x in (f'--{k}', str(v))]
    return p.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(',')]
    N, d, c = args.n, sizes[0], sizes[-1]
    layers, P = layout(sizes)
    rng = np.random.default_rng(args.seed)
    if args.x:
        X = load(args.x, N * d, 'X').reshape(N, d)
    else:
        X = rng.uniform(-1, 1, (N, d)).astype(np.float32)
    if args.y:
        Y = load(args.y, N * c, 'Y').reshape(N, c)
    else:
        Y = np.zeros((N, c), np.float32)
        Y[np.arange(N), rng.integers(0, c, N)] = 1
    if args.theta:
        theta = load(args.theta, P, 'theta')
    else:
        theta = np.empty(P, np.float32)
        for (i, o, w, b) in layers:
            k = 1 / np.sqrt(i)
            theta[w:b + o] = rng.uniform(-k, k, b + o - w)
    v = load(args.v, P, 'v') if args.v else rng.uniform(-0.02, 0.02, P).astype(np.float32)
    params, vparams = views(theta, layers), views(v, layers)
    g, hv = np.empty(P, np.float32), np.empty(P, np.float32)

    loss = grad(X, Y, N, params, g)
    hvp(X, Y, N, params, vparams, hv)
    if args.check:
        g.astype(F32).tofile(args.check + '.grad.f32')
        hv.astype(F32).tofile(args.check + '.hvp.f32')
    gt = time_reps(lambda: grad(X, Y, N, params, g), args.reps) if args.reps > 0 else []
    ht = time_reps(lambda: hvp(X, Y, N, params, vparams, hv), args.reps) if args.reps > 0 else []
    threads, source, blas, core = blas_info()
    print(json.dumps({
        'grad_ms': statistics.median(gt) if gt else None,
        'hvp_ms': statistics.median(ht) if ht else None,
        'loss': loss, 'threads': threads, 'threads_source': source, 'blas': blas, 'blas_core': core,
        'numpy': np.__version__, 'n': N, 'sizes': sizes, 'reps': args.reps,
        'generated_inputs': [k for k in ('x', 'y', 'theta', 'v') if not getattr(args, k)],
        'grad_times_ms': [round(t, 3) for t in gt], 'hvp_times_ms': [round(t, 3) for t in ht],
    }))


if __name__ == '__main__':
    main(sys.argv[1:])
