# PyTorch side of tests/torch-interop.test.ts: builds the nn.Sequential that
# eoslab prints for a model (torchSequential), loads eoslab's safetensors
# checkpoint into it with strict=True, and returns the loss and gradient on
# the given inputs under eoslab's conventions (MSE = (1/N) sum 1/2 |f - y|^2,
# CE = mean softmax cross-entropy). Reads the safetensors container by hand
# (8-byte header length, JSON header, raw little-endian data) so that only
# torch and numpy are needed.
import json, struct, sys
import numpy as np
import torch
from torch import nn

def load_safetensors(path):
    raw = open(path, 'rb').read()
    n = struct.unpack('<Q', raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    body = raw[8 + n:]
    out = {}
    for name, meta in header.items():
        if name == '__metadata__':
            continue
        a, b = meta['data_offsets']
        assert meta['dtype'] == 'F32', meta['dtype']
        out[name] = torch.from_numpy(np.frombuffer(body[a:b], dtype='<f4').reshape(meta['shape']).copy())
    return out

def main():
    spec = json.load(open(sys.argv[1]))
    model = eval(spec['sequential'], {'nn': nn})
    model.load_state_dict(load_safetensors(spec['checkpoint']), strict=True)
    x = torch.from_numpy(np.fromfile(spec['x'], dtype='<f4').reshape([spec['N']] + spec['in_shape']))
    y = torch.from_numpy(np.fromfile(spec['y'], dtype='<f4').reshape(spec['N'], -1))
    f = model(x)
    if spec['loss'] == 'mse':
        loss = 0.5 * ((f - y) ** 2).sum() / spec['N']
    else:
        loss = nn.functional.cross_entropy(f, y.argmax(dim=1))
    grads = torch.autograd.grad(loss, list(model.parameters()))
    names = [n for n, _ in model.named_parameters()]
    json.dump({'loss': loss.item(), 'outputs': f.detach().reshape(-1).tolist(),
               'grad': {n: g.reshape(-1).tolist() for n, g in zip(names, grads)}}, sys.stdout)

main()
