# ruff: noqa: UP031  (runs inside the target interpreter: conservative syntax)
"""The built-in workloads of bench, tune and profile: reference models written here so the worker
depends on nothing but torch (torchvision fails to import on some machines, and its version would
change the workload under us), their sizes, and the Workload each becomes.

Part of the perf worker runtime. Python 3.8+ syntax.
"""

from .step import SgdMomentum
from .workload import Workload

# One size table for every command. GPU sizes are those of the reference capture (ResNet-50 batch
# 128 on the H100); CPU sizes keep the CPU path small enough for CI on two cores. "quick" is
# `bench --quick` (and tune on CPU); "full" everything else.
SIZES = {
    ("cuda", "full"): dict(
        resnet50=dict(batch=128, hw=224),
        convnet=dict(batch=64, hw=224),
        gpt=dict(batch=8, d_model=1024, n_head=16, n_layer=4, seq=1024, vocab=8192),
    ),
    ("cuda", "quick"): dict(
        resnet50=dict(batch=128, hw=224),
        convnet=dict(batch=64, hw=224),
        gpt=dict(batch=8, d_model=1024, n_head=16, n_layer=2, seq=1024, vocab=8192),
    ),
    ("cpu", "full"): dict(
        resnet50=dict(batch=8, hw=96),
        convnet=dict(batch=8, hw=64),
        gpt=dict(batch=4, d_model=256, n_head=4, n_layer=2, seq=128, vocab=2048),
    ),
    ("cpu", "quick"): dict(
        resnet50=dict(batch=4, hw=64),
        convnet=dict(batch=4, hw=64),
        gpt=dict(batch=4, d_model=128, n_head=4, n_layer=1, seq=64, vocab=1024),
    ),
}
ALIASES = {"transformer": "gpt"}
LOADER_BATCH = 32


def builtin(torch, name, device, mode="full", batch=None, loader=False):
    """The Workload of a built-in: "resnet50", "convnet", "gpt" (or "transformer")."""
    name = ALIASES.get(name, name)
    size = dict(SIZES[(device.type, mode)][name])
    b = int(batch or size.pop("batch"))
    size.pop("batch", None)
    nn = torch.nn
    torch.manual_seed(0)
    build = {"resnet50": lambda: resnet50(nn), "convnet": lambda: convnet(nn)}.get(name)
    if build is None:
        build = lambda: gpt(torch, nn, **size)  # noqa: E731
    try:
        with torch.device(device):  # parameters initialised on the device (fast on a GPU)
            model = build()
    except (TypeError, AttributeError):  # torch < 2.0: no device context manager
        model = build()
    model = model.to(device)
    dataset = None
    if name in ("resnet50", "convnet"):
        hw = size["hw"]
        x = torch.randn(b, 3, hw, hw, device=device)
        y = torch.randint(0, 1000, (b,), device=device)
        title = "ResNet-50" if name == "resnet50" else "conv net"
        lr = 0.1 if name == "resnet50" else 0.01
        description = "%s, batch %d, 3×%d×%d synthetic, SGD(lr=%g, momentum=0.9)" % (title, b, hw, hw, lr)
        if loader:
            from .datasets import SyntheticImages

            dataset = SyntheticImages()
        return Workload(
            model=model,
            inputs=(x,),
            target=y,
            loss_fn=nn.functional.cross_entropy,
            optimizer=SgdMomentum(lr),
            items=b,
            unit="images/s",
            description=description,
            batch_size=b,
            dataset=dataset,
            loader_batch_size=LOADER_BATCH,
        )
    x = torch.randint(0, size["vocab"], (b, size["seq"]), device=device)
    y = torch.randint(0, size["vocab"], (b, size["seq"]), device=device)
    description = "GPT block ×%d, d_model %d, seq %d, batch %d, AdamW(lr=1e-4)" % (
        size["n_layer"],
        size["d_model"],
        size["seq"],
        b,
    )

    def adamw(params):
        return torch.optim.AdamW(params, lr=1e-4)

    def loss_fn(logits, target):
        return nn.functional.cross_entropy(logits.flatten(0, 1).float(), target.flatten())

    return Workload(
        model=model,
        inputs=(x,),
        target=y,
        loss_fn=loss_fn,
        optimizer=adamw,
        items=b * size["seq"],
        unit="tokens/s",
        description=description,
        batch_size=b,
    )


def resnet50(nn, num_classes=1000):
    """ResNet-50 v1.5 (stride in the 3x3 convolution), the layer layout of torchvision's."""

    class Bottleneck(nn.Module):
        expansion = 4

        def __init__(self, inplanes, planes, stride=1, downsample=None):
            super().__init__()
            width = planes
            self.conv1 = nn.Conv2d(inplanes, width, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(width)
            self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(width)
            self.conv3 = nn.Conv2d(width, planes * 4, 1, bias=False)
            self.bn3 = nn.BatchNorm2d(planes * 4)
            self.relu = nn.ReLU(inplace=True)
            self.downsample = downsample

        def forward(self, x):
            identity = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.relu(self.bn2(self.conv2(out)))
            out = self.bn3(self.conv3(out))
            return self.relu(out + identity)

    class ResNet(nn.Module):
        def __init__(self, layers=(3, 4, 6, 3)):
            super().__init__()
            self.inplanes = 64
            self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
            self.layer1 = self._layer(64, layers[0])
            self.layer2 = self._layer(128, layers[1], stride=2)
            self.layer3 = self._layer(256, layers[2], stride=2)
            self.layer4 = self._layer(512, layers[3], stride=2)
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(512 * 4, num_classes)
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

        def _layer(self, planes, blocks, stride=1):
            downsample = None
            if stride != 1 or self.inplanes != planes * 4:
                downsample = nn.Sequential(
                    nn.Conv2d(self.inplanes, planes * 4, 1, stride=stride, bias=False), nn.BatchNorm2d(planes * 4)
                )
            layers = [Bottleneck(self.inplanes, planes, stride, downsample)]
            self.inplanes = planes * 4
            layers += [Bottleneck(self.inplanes, planes) for _ in range(1, blocks)]
            return nn.Sequential(*layers)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(self.avgpool(x).flatten(1))

    return ResNet()


def convnet(nn, num_classes=1000):
    """A small plain conv net (the classic 7x7 stem, then 3x3 stages) for the AMP comparison."""

    def block(cin, cout, stride):
        return [
            nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
        ]

    layers = [nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True)]
    layers += block(64, 128, 2) + block(128, 128, 1) + block(128, 256, 2) + block(256, 256, 1) + block(256, 512, 2)
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, num_classes)]
    return nn.Sequential(*layers)


def gpt(torch, nn, d_model=1024, n_head=16, n_layer=4, seq=1024, vocab=8192):
    """A GPT-style decoder: pre-norm blocks with causal self-attention (scaled_dot_product_attention)
    and a 4x GELU MLP, tied token embedding and LM head."""
    F = torch.nn.functional

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1 = nn.LayerNorm(d_model)
            self.qkv = nn.Linear(d_model, 3 * d_model)
            self.proj = nn.Linear(d_model, d_model)
            self.ln2 = nn.LayerNorm(d_model)
            self.fc = nn.Linear(d_model, 4 * d_model)
            self.out = nn.Linear(4 * d_model, d_model)

        def forward(self, x):
            b, t, c = x.shape
            q, k, v = self.qkv(self.ln1(x)).split(c, dim=2)
            q, k, v = (z.view(b, t, n_head, c // n_head).transpose(1, 2) for z in (q, k, v))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + self.proj(y.transpose(1, 2).reshape(b, t, c))
            return x + self.out(F.gelu(self.fc(self.ln2(x))))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok = nn.Embedding(vocab, d_model)
            self.pos = nn.Parameter(torch.zeros(1, seq, d_model))
            self.blocks = nn.Sequential(*[Block() for _ in range(n_layer)])
            self.ln = nn.LayerNorm(d_model)
            self.head = nn.Linear(d_model, vocab, bias=False)
            self.head.weight = self.tok.weight

        def forward(self, idx):
            x = self.tok(idx) + self.pos[:, : idx.shape[1]]
            return self.head(self.ln(self.blocks(x)))

    return GPT()
