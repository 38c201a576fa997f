"""The two networks: a CenterNet-style plate detector and a CTC line recogniser.

Both are small on purpose: they run on one CPU thread inside a Lambda function, within a frame
budget of about 25 ms, and train on a CPU in minutes.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from murur.alpr.formats import ALPHABET
from murur.alpr.postprocess import DETECTOR_CHANNELS


def conv_bn(cin: int, cout: int, stride: int = 1, kernel: int | tuple[int, int] = 3, groups: int = 1) -> nn.Sequential:
    padding = (kernel // 2) if isinstance(kernel, int) else (kernel[0] // 2, kernel[1] // 2)
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride, padding, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class SeparableBlock(nn.Module):
    """Depthwise 3x3 then pointwise 1x1, with a residual connection."""

    def __init__(self, channels: int, dilation: int = 1):
        super().__init__()
        self.depthwise = nn.Conv2d(channels, channels, 3, 1, dilation, dilation=dilation, groups=channels, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.pointwise = nn.Conv2d(channels, channels, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.depthwise(x)))
        y = self.bn2(self.pointwise(y))
        return F.relu(x + y)


class PlateDetector(nn.Module):
    """Grey image (N, 1, H, W) in [0, 1] -> (N, DETECTOR_CHANNELS, H/8, W/8).

    Channel 0 and 9 are probabilities (sigmoid applied when `probabilities=True`, as exported);
    channels 1..8 are corner offsets (see murur.alpr.postprocess). H and W must be multiples of 32.
    """

    stride = 8

    def __init__(self, width: int = 1):
        super().__init__()
        c = [8 * width, 16 * width, 32 * width, 48 * width, 64 * width]
        self.stem = nn.Sequential(conv_bn(1, c[0], 2), conv_bn(c[0], c[1], 2))  # /4
        self.s8 = nn.Sequential(conv_bn(c[1], c[2], 2), SeparableBlock(c[2]), SeparableBlock(c[2]))
        self.s16 = nn.Sequential(conv_bn(c[2], c[3], 2), SeparableBlock(c[3]), SeparableBlock(c[3], 2))
        self.s32 = nn.Sequential(conv_bn(c[3], c[4], 2), SeparableBlock(c[4]), SeparableBlock(c[4], 2))
        self.lat32 = nn.Conv2d(c[4], c[2], 1)
        self.lat16 = nn.Conv2d(c[3], c[2], 1)
        self.head = nn.Sequential(SeparableBlock(c[2]), conv_bn(c[2], c[2], 1))
        self.out = nn.Conv2d(c[2], DETECTOR_CHANNELS, 1)
        nn.init.constant_(self.out.bias[0], -4.0)  # rare positives: start with a low heatmap

    def forward(self, x: torch.Tensor, probabilities: bool = False) -> torch.Tensor:
        x = (x - 0.45) / 0.25
        f8 = self.s8(self.stem(x))
        f16 = self.s16(f8)
        f32 = self.s32(f16)
        up16 = self.lat16(f16) + F.interpolate(self.lat32(f32), scale_factor=2.0, mode="nearest")
        fused = f8 + F.interpolate(up16, scale_factor=2.0, mode="nearest")
        out = self.out(self.head(fused))
        if probabilities:
            out = torch.cat([torch.sigmoid(out[:, :1]), out[:, 1:9], torch.sigmoid(out[:, 9:10])], dim=1)
        return out


class PlateRecognizer(nn.Module):
    """Grey crop (N, 1, 32, 160) in [0, 1] -> logits (N, 40, 1 + len(ALPHABET)); class 0 is the CTC blank.

    `input_norm`: "fixed" shifts and scales every crop alike; "per_crop" standardises each crop by its own
    mean and spread, so that a dark or washed-out plate reaches the network like a well-exposed one.
    """

    INPUT_NORMS = ("fixed", "per_crop")

    def __init__(self, width: int = 1, input_norm: str = "fixed"):
        super().__init__()
        if input_norm not in self.INPUT_NORMS:
            raise ValueError(f"input_norm must be one of {self.INPUT_NORMS}, not {input_norm!r}")
        self.input_norm = input_norm
        c = [32 * width, 64 * width, 96 * width, 128 * width]
        self.features = nn.Sequential(
            conv_bn(1, c[0]),
            nn.MaxPool2d(2),  # 16 x 80
            conv_bn(c[0], c[1]),
            nn.MaxPool2d(2),  # 8 x 40
            conv_bn(c[1], c[2]),
            conv_bn(c[2], c[2]),
            nn.MaxPool2d((2, 1)),  # 4 x 40
            conv_bn(c[2], c[3]),
            nn.MaxPool2d((2, 1)),  # 2 x 40
            conv_bn(c[3], c[3], kernel=(2, 1)),  # padding 1 on height: 3 x 40
        )
        self.collapse = nn.Conv2d(c[3], c[3], (3, 1), bias=False)  # 1 x 40
        self.bn = nn.BatchNorm1d(c[3])
        self.context = nn.Sequential(
            nn.Conv1d(c[3], c[3], 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv1d(c[3], c[3], 3, padding=1), nn.ReLU(inplace=True),
        )
        self.classify = nn.Conv1d(c[3], 1 + len(ALPHABET), 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.input_norm == "per_crop":
            centred = x - x.mean(dim=(2, 3), keepdim=True)
            spread = centred.pow(2).mean(dim=(2, 3), keepdim=True).sqrt()
            x = centred / (spread + 0.03)  # the floor keeps a blank crop's noise from being blown up
        else:
            x = (x - 0.5) / 0.25
        f = self.collapse(self.features(x)).squeeze(2)  # N x C x T
        f = F.relu(self.bn(f))
        f = f + self.context(f)
        return self.classify(f).permute(0, 2, 1)  # N x T x classes
