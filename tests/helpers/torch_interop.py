# PyTorch side of tests/torch-interop.test.ts: builds the nn.Sequential that
# eoslab prints for a model (torchSequential), loads eoslab's safetensors
# checkpoint into it with strict=True, and returns the loss and gradient on
# the given inputs under eoslab's conventions (MSE = (1/N) sum 1/2 |f - y|^2,
# CE = mean softmax cross-entropy). Reads the safetensors container by hand
# (8-byte header length, JSON header, raw little-endian data) so that only
# torch and numpy are needed. With spec['module'] = 'resnet20'/'resnet32' the
# model is the widely used CIFAR ResNet code (akamaster/pytorch_resnet_cifar10,
# written out below) instead of an nn.Sequential; with spec['physical_batch']
# the loss is summed over chunks of that many examples, each a forward in
# train() mode, so BatchNorm normalises each chunk alone as eoslab does.
import json, struct, sys
import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

class LambdaLayer(nn.Module):
    def __init__(self, lambd):
        super().__init__()
        self.lambd = lambd

    def forward(self, x):
        return self.lambd(x)

class BasicBlock(nn.Module):
    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            # Option A: every second pixel, channels zero-padded on both sides.
            self.shortcut = LambdaLayer(lambda x: F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, planes // 4, planes // 4), 'constant', 0))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += self.shortcut(x)
        return F.relu(out)

class ResNet(nn.Module):
    def __init__(self, num_blocks, num_classes=10):
        super().__init__()
        self.in_planes = 16
        self.conv1 = nn.Conv2d(3, 16, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.layer1 = self._make_layer(16, num_blocks[0], stride=1)
        self.layer2 = self._make_layer(32, num_blocks[1], stride=2)
        self.layer3 = self._make_layer(64, num_blocks[2], stride=2)
        self.linear = nn.Linear(64, num_classes)

    def _make_layer(self, planes, num_blocks, stride):
        layers = []
        for s in [stride] + [1] * (num_blocks - 1):
            layers.append(BasicBlock(self.in_planes, planes, s))
            self.in_planes = planes
        return nn.Sequential(*layers)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        out = F.avg_pool2d(out, out.size()[3])
        return self.linear(out.view(out.size(0), -1))

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
    model = ResNet({'resnet20': [3] * 3, 'resnet32': [5] * 3}[mod], spec['classes']) if mod else eval(spec['sequential'], {'nn': nn})
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
