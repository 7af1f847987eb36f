"""SqueezeNet's first convolution is anti-aliased: it cannot hide a pixel-level checkerboard."""

import torch
from torch import nn

from impasto.features.networks import AntiAliasedConv


def test_same_output_size_as_the_stride_2_convolution():
    for height, width in ((80, 80), (81, 96), (127, 64)):
        x = torch.rand(1, 3, height, width)
        assert AntiAliasedConv(3, 8, 3)(x).shape == nn.Conv2d(3, 8, 3, stride=2)(x).shape


def test_a_checkerboard_moves_the_plain_stride_2_output_but_barely_the_anti_aliased_one():
    torch.manual_seed(0)
    smooth = torch.rand(1, 3, 8, 8).repeat_interleave(8, -1).repeat_interleave(8, -2)
    yy, xx = torch.meshgrid(torch.arange(64), torch.arange(64), indexing="ij")
    checker = 0.1 * ((yy + xx) % 2 * 2 - 1).float()
    anti = AntiAliasedConv(3, 16, 3)
    plain = nn.Conv2d(3, 16, 3, stride=2)
    plain.load_state_dict(anti.state_dict())
    change = {
        name: (conv(smooth + checker) - conv(smooth)).abs().mean() for name, conv in (("plain", plain), ("anti", anti))
    }
    assert change["anti"] < 0.2 * change["plain"]
