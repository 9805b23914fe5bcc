"""PyTorch modules for eoslab's nets that are not one flat nn.Sequential,
shared by bench/torch_peer.py (timing on eoslab's θ) and
tests/helpers/torch_interop.py (checkpoint loading): the CIFAR ResNets
(resnet20, resnet32) as the widely used akamaster/pytorch_resnet_cifar10
code writes them. eoslab's resnet parameter names (conv1.weight, bn1.weight,
layer1.0.conv1.weight, ..., linear.bias) are this module's state-dict names,
so θ's slices load by name.
"""
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


RESNET_BLOCKS = {'resnet20': [3] * 3, 'resnet32': [5] * 3}


def build_module(name, classes):
    """The named module (a key of RESNET_BLOCKS) with `classes` outputs."""
    if name not in RESNET_BLOCKS:
        raise SystemExit(f'torch_models: no module {name!r}; known: {", ".join(RESNET_BLOCKS)}')
    return ResNet(RESNET_BLOCKS[name], classes)
