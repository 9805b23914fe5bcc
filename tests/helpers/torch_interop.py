# PyTorch side of tests/torch-interop.test.ts: builds the nn.Sequential that
# eoslab prints for a model (torchSequential), loads eoslab's safetensors
# checkpoint into it with strict=True, and returns the loss and gradient on
# the given inputs under eoslab's conventions (MSE = (1/N) sum 1/2 |f - y|^2,
# CE = mean softmax cross-entropy). Reads the safetensors container by hand
# (8-byte header length, JSON header, raw little-endian data) so that only
# torch and numpy are needed. With spec['module'] = 'resnet20'/'resnet32' the
# model is the widely used CIFAR ResNet code (akamaster/pytorch_resnet_cifar10,
# bench/torch_models.py, shared with bench/torch_peer.py) instead of an
# nn.Sequential; with spec['physical_batch'] the loss is summed over chunks of
# that many examples, each a forward in train() mode, so BatchNorm normalises
# each chunk alone as eoslab does.
import json, os, struct, sys
import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'bench'))
from torch_models import build_module  # noqa: E402

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
        dt = {'F32': '<f4', 'I64': '<i8'}[meta['dtype']]
        out[name] = torch.from_numpy(np.frombuffer(body[a:b], dtype=dt).reshape(meta['shape']).copy())
    return out

def main():
    spec = json.load(open(sys.argv[1]))
    mod = spec.get('module')
    model = build_module(mod, spec['classes']) if mod else eval(spec['sequential'], {'nn': nn})
    model.train()
    model.load_state_dict(load_safetensors(spec['checkpoint']), strict=True)
    x = torch.from_numpy(np.fromfile(spec['x'], dtype='<f4').reshape([spec['N']] + spec['in_shape']))
    y = torch.from_numpy(np.fromfile(spec['y'], dtype='<f4').reshape(spec['N'], -1))
    pb = spec.get('physical_batch') or spec['N']
    fs, loss = [], 0
    for r in range(0, spec['N'], pb):
        f = model(x[r:r + pb])
        fs.append(f)
        if spec['loss'] == 'mse':
            loss = loss + 0.5 * ((f - y[r:r + pb]) ** 2).sum() / spec['N']
        else:
            loss = loss + nn.functional.cross_entropy(f, y[r:r + pb].argmax(dim=1), reduction='sum') / spec['N']
    f = torch.cat(fs)
    grads = torch.autograd.grad(loss, list(model.parameters()))
    names = [n for n, _ in model.named_parameters()]
    json.dump({'loss': loss.item(), 'outputs': f.detach().reshape(-1).tolist(),
               'grad': {n: g.reshape(-1).tolist() for n, g in zip(names, grads)}}, sys.stdout)

main()
