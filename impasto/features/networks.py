"""Feature networks (VGG-19, SqueezeNet 1.1) with named layers, frozen and truncated.

The layer stacks mirror torchvision's `features` modules index for index, so that
torchvision-layout state dicts load unchanged; classifiers are never built.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from impasto.errors import ImpastoError
from impasto.features.catalogue import SQUEEZENET_FIRES, SQUEEZENET_POOLED, VGG19_BLOCKS

# ImageNet statistics (torchvision preprocessing, RGB in 0..1).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# Caffe preprocessing: BGR in 0..255 minus this mean (given here in RGB order).
CAFFE_MEAN_RGB = (123.68, 116.779, 103.939)
# Caffe-format nets see inputs about this many times larger than torchvision ones;
# their features are divided by it so that loss weights mean the same for both.
CAFFE_FEATURE_SCALE = 255.0 * sum(IMAGENET_STD) / 3
CHECKPOINTED_BLOCKS = 2
"""With checkpointing on, the blocks (up to each pooling layer) recomputed in the backward pass."""


Layers = list[tuple[str, nn.Module]]
"""A network as its named layers, shallow to deep."""
Consumers = Mapping[str, Callable[[torch.Tensor], None]]
"""Per layer name, what takes that feature map as soon as it is computed (see `FeatureExtractor.forward`)."""


class Fire(nn.Module):
    """SqueezeNet fire module: 1x1 squeeze, then parallel 1x1 and 3x3 expands."""

    def __init__(self, in_channels: int, squeeze: int, expand: int) -> None:
        super().__init__()
        self.squeeze = nn.Conv2d(in_channels, squeeze, 1)
        self.expand1x1 = nn.Conv2d(squeeze, expand, 1)
        self.expand3x3 = nn.Conv2d(squeeze, expand, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = torch.relu(self.squeeze(x))
        return torch.cat([torch.relu(self.expand1x1(s)), torch.relu(self.expand3x3(s))], 1)


class ScaledAvgPool(nn.AvgPool2d):
    """Average pooling times a gain, which `calibrate.calibrate_pooling` sets so that
    outputs are as large on average as max pooling's would be (1 until then)."""

    gain: torch.Tensor

    def __init__(self, kernel_size: int, stride: int, ceil_mode: bool = False) -> None:
        super().__init__(kernel_size, stride, ceil_mode=ceil_mode)
        self.register_buffer("gain", torch.ones(()), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x) * self.gain.to(x.dtype)


class AntiAliasedConv(nn.Conv2d):
    """A stride-2 convolution run at stride 1 and then averaged over 2x2 blocks.

    SqueezeNet's first layer samples its 3x3 filters every other pixel, so the optimiser
    can hide energy in patterns the layer does not see (a fine grain over the result);
    averaging before subsampling closes that blind spot. Same weights, same output size.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int) -> None:
        super().__init__(in_channels, out_channels, kernel_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.avg_pool2d(super().forward(x), 2, ceil_mode=True)


def _pool(kind: str, kernel_size: int, stride: int, ceil_mode: bool = False) -> nn.Module:
    if kind == "max":
        return nn.MaxPool2d(kernel_size, stride, ceil_mode=ceil_mode)
    if kind == "avg":
        return ScaledAvgPool(kernel_size, stride, ceil_mode=ceil_mode)
    raise ImpastoError(f"unknown pooling {kind!r}: use 'max' or 'avg'")


def vgg19_layers(pooling: str = "max", width: float = 1.0) -> Layers:
    """VGG-19's 16 conv + 5 pool layers (with ReLUs), named conv1_1 ... pool5.

    `width` scales the channel counts; below 1 it builds the small nets tests use.
    """
    layers: Layers = []
    in_channels = 3
    for block, channels in enumerate(VGG19_BLOCKS, start=1):
        for i, out in enumerate(channels, start=1):
            out = max(1, round(out * width))
            layers.append((f"conv{block}_{i}", nn.Conv2d(in_channels, out, 3, padding=1)))
            layers.append((f"relu{block}_{i}", nn.ReLU()))
            in_channels = out
        layers.append((f"pool{block}", _pool(pooling, kernel_size=2, stride=2)))
    return layers


def squeezenet1_1_layers(pooling: str = "max", width: float = 1.0) -> Layers:
    """SqueezeNet 1.1's feature layers, named conv1, relu1, pool1, fire2 ... fire9 (conv1 anti-aliased)."""
    stem = max(1, round(64 * width))
    layers: Layers = [("conv1", AntiAliasedConv(3, stem, 3)), ("relu1", nn.ReLU())]
    in_channels = stem
    for name, squeeze, expand in SQUEEZENET_FIRES:
        if name in SQUEEZENET_POOLED:
            layers.append((f"pool{int(name[-1]) - 1}", _pool(pooling, kernel_size=3, stride=2, ceil_mode=True)))
        squeeze, expand = max(1, round(squeeze * width)), max(1, round(expand * width))
        layers.append((name, Fire(in_channels, squeeze, expand)))
        in_channels = 2 * expand
    return layers


class Normalize(nn.Module):
    """Maps RGB images in 0..1 to the input a network's weights expect."""

    mean: torch.Tensor
    scale: torch.Tensor

    def __init__(self, preprocessing: str) -> None:
        super().__init__()
        if preprocessing == "torchvision":
            mean, scale, bgr = torch.tensor(IMAGENET_MEAN), 1 / torch.tensor(IMAGENET_STD), False
        elif preprocessing == "caffe":
            mean, scale, bgr = torch.tensor(CAFFE_MEAN_RGB) / 255, torch.full((3,), 255.0), True
        else:
            raise ImpastoError(f"unknown weights format {preprocessing!r}: use 'torchvision' or 'caffe'")
        self.bgr = bgr
        self.register_buffer("mean", mean.view(1, 3, 1, 1))
        self.register_buffer("scale", scale.view(1, 3, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = (x - self.mean) * self.scale
        return x.flip(1) if self.bgr else x


class FeatureExtractor(nn.Module):
    """A frozen network that returns the feature maps of the layers asked for.

    It is truncated after the deepest requested layer, so no work is wasted.
    """

    def __init__(
        self,
        layers: Sequence[tuple[str, nn.Module]],
        preprocessing: str,
        wanted: Iterable[str],
    ) -> None:
        super().__init__()
        names = [name for name, _ in layers]
        self.wanted = tuple(dict.fromkeys(wanted))
        unknown = [w for w in self.wanted if w not in names]
        if unknown:
            raise ImpastoError(f"unknown layer {unknown[0]!r}: choose from {', '.join(names)}")
        depth = max(names.index(w) for w in self.wanted) + 1
        self.normalize = Normalize(preprocessing)
        self.feature_scale = CAFFE_FEATURE_SCALE if preprocessing == "caffe" else 1.0
        self.names = names[:depth]
        self.layers = nn.ModuleList(module for _, module in layers[:depth])
        self.checkpointing = False
        """Recompute the first CHECKPOINTED_BLOCKS blocks' activations in the backward pass instead of
        keeping them: the early layers hold most of the memory and cost little to run again. The
        engine turns it on for large images."""
        pools = [i + 1 for i, name in enumerate(self.names) if name.startswith("pool")]
        bounds = [0, *(p for p in pools if p < depth), depth]
        self.blocks = list(zip(bounds, bounds[1:]))
        self.requires_grad_(False)
        self.eval()

    def forward(self, image: torch.Tensor, consumers: Consumers | None = None) -> dict[str, torch.Tensor]:
        """The wanted feature maps by name. A wanted layer with a consumer is handed to it as soon
        as it is computed, inside its block, and is not returned: a loss taken there keeps no
        feature map alive across the later blocks, and its backward pass runs just before its
        block's, so that its gradient is not held through the whole backward pass."""
        x = self.normalize(image)
        consumers = consumers or {}
        features: dict[str, torch.Tensor] = {}
        for index, (start, stop) in enumerate(self.blocks):
            if self.checkpointing and index < CHECKPOINTED_BLOCKS and x.requires_grad and torch.is_grad_enabled():
                x, found = checkpoint(self._block, x, start, stop, consumers, use_reentrant=False)
            else:
                x, found = self._block(x, start, stop, consumers)
            features.update(found)
        return features

    def _block(
        self, x: torch.Tensor, start: int, stop: int, consumers: Consumers
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Layers start..stop-1; a ReLU whose input is no feature asked for rectifies in place (half the memory)."""
        found = {}
        for index in range(start, stop):
            name, layer = self.names[index], self.layers[index]
            in_place = isinstance(layer, nn.ReLU) and index > start and self.names[index - 1] not in self.wanted
            x = torch.relu_(x) if in_place else layer(x)
            if name in self.wanted:
                feature = x / self.feature_scale if self.feature_scale != 1.0 else x
                if name in consumers:
                    consumers[name](feature)
                else:
                    found[name] = feature
        return x, found


def load_state(layers: Layers, state_dict: dict[str, torch.Tensor], source: str) -> None:
    """Loads torchvision `features.N.*` keys into the named layer list, by index."""
    by_index = nn.Sequential(*(module for _, module in layers))
    prefixed = {k.removeprefix("features."): v for k, v in state_dict.items() if k.startswith("features.")}
    expected = by_index.state_dict()
    missing = [k for k in expected if k not in prefixed]
    if missing:
        raise ImpastoError(
            f"{source} lacks weight 'features.{missing[0]}': pass weights made for this --model, or the --model they are for"
        )
    for key, value in expected.items():
        if prefixed[key].shape != value.shape:
            raise ImpastoError(
                f"{source}: 'features.{key}' has shape {tuple(prefixed[key].shape)}, expected "
                f"{tuple(value.shape)}: pass weights made for this --model, or the --model they are for"
            )
    by_index.load_state_dict({k: prefixed[k] for k in expected})


def infer_width(state_dict: dict[str, torch.Tensor]) -> float:
    """The channel-width factor of a state dict (1.0 for the real networks)."""
    first = state_dict.get("features.0.weight")
    return 1.0 if first is None else first.shape[0] / 64


def init_random(layers: Layers, seed: int = 0) -> None:
    """He-initialises every conv from a fixed seed: the same random net every time,
    with activations that neither vanish nor explode with depth."""
    generator = torch.Generator().manual_seed(seed)
    for module in nn.Sequential(*(m for _, m in layers)).modules():
        if isinstance(module, nn.Conv2d):
            fan_in = module.weight[0].numel()
            with torch.no_grad():
                module.weight.copy_(torch.randn(module.weight.shape, generator=generator) * (2 / fan_in) ** 0.5)
                if module.bias is not None:
                    module.bias.zero_()
