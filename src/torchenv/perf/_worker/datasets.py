"""A CPU-heavy synthetic image dataset: what a JPEG-decoding, augmenting ImageNet pipeline costs the
CPU, without files. Each item is generated from its index (reproducible), randomly cropped, resized
to 224×224, blurred, flipped and normalised with torch ops. Python 3.8+ syntax; imports torch."""

import torch
import torch.nn.functional as F


class SyntheticImages(torch.utils.data.Dataset):
    def __init__(self, length=1 << 20, size=224, source=320, classes=1000):
        self.length = int(length)
        self.size = int(size)
        self.source = int(source)
        self.classes = int(classes)
        kernel = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0])
        kernel = torch.outer(kernel, kernel)
        self.kernel = (kernel / kernel.sum()).expand(3, 1, 5, 5).contiguous()
        self.mean = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1)
        self.std = torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1)

    def __len__(self):
        return self.length

    def __getitem__(self, index):
        g = torch.Generator().manual_seed(int(index))
        s = self.source
        image = torch.randint(0, 256, (3, s, s), dtype=torch.uint8, generator=g)  # stands in for decoding
        crop = int(torch.randint(s // 2, s + 1, (1,), generator=g))
        top, left = (int(v) for v in torch.randint(0, s - crop + 1, (2,), generator=g))
        x = image[:, top : top + crop, left : left + crop].float().div_(255.0)
        x = F.interpolate(x[None], size=(self.size, self.size), mode="bilinear", align_corners=False)
        x = F.conv2d(x, self.kernel, padding=2, groups=3)[0]
        if bool(torch.rand((), generator=g) < 0.5):
            x = x.flip(-1)
        x = (x - self.mean) / self.std
        return x, int(index) % self.classes
