"""The model registry: everything impasto knows about each feature network, in one place.

A `ModelSpec` adds to the network's catalogue entry (`features.catalogue`: names, layers,
defaults, which settings read without importing PyTorch) the layer builder, the official
weights (URL, file name, SHA-256, size), any weights built into the package, and the tiling
halo. The torchvision state-dict keys are derived from one walk over the builder's layer stack.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch
from torch import nn

from impasto.features.catalogue import MODELS as MODELS  # the names, re-exported for the apps
from impasto.features.catalogue import NETWORKS, Network, network
from impasto.features.networks import (
    FeatureExtractor,
    Layers,
    infer_width,
    init_random,
    load_state,
    squeezenet1_1_layers,
    vgg19_layers,
)


@dataclass(frozen=True)
class BuiltinWeights:
    """Weights that ship inside the package, xz-compressed without loss: used when no weights are named."""

    resource: str  # file name in impasto/features/builtin/
    sha256: str  # of the decompressed file: what a run's provenance records
    preprocessing: str


@dataclass(frozen=True)
class ModelSpec:
    """One feature network: its catalogue entry, how to build it and its official weights."""

    network: Network
    build: Callable[..., Layers]
    url: str
    filename: str
    sha256: str  # full digest of the official file (its first 8 hex digits are in the file name)
    download_mb: int  # size of the official file in megabytes (MiB), as torchvision states it
    halo: int  # pixels of context a tile needs: about the receptive-field radius of the deepest default layer
    fp32_channels_last: bool = False  # whether the channels-last layout is faster in fp32 on CPUs (measured)
    builtin: BuiltinWeights | None = None  # used instead of a download when no weights are named

    @property
    def name(self) -> str:
        return self.network.name

    @property
    def display(self) -> str:
        return self.network.display

    @property
    def content_layers(self) -> tuple[str, ...]:
        return self.network.content_layers

    @property
    def style_layers(self) -> tuple[str, ...]:
        return self.network.style_layers

    @property
    def style_weight(self) -> float:
        return self.network.style_weight

    def layer_names(self) -> list[str]:
        """All named layers, shallow to deep."""
        return list(self.network.layers)

    def feature_keys(self) -> tuple[str, ...]:
        """The `features.N.*` parameter keys of torchvision's state dict, in order."""
        stack = nn.Sequential(*(module for _, module in self.build()))
        return tuple(f"features.{key}" for key in stack.state_dict())


REGISTRY: dict[str, ModelSpec] = {
    "vgg19": ModelSpec(
        network=NETWORKS["vgg19"],
        build=vgg19_layers,
        url="https://download.pytorch.org/models/vgg19-dcbb9e9d.pth",
        filename="vgg19-dcbb9e9d.pth",
        sha256="dcbb9e9dad569fff7a846263a77324fc34978fea2bfb039c012d710e1776ae44",
        download_mb=548,
        halo=96,
    ),
    "squeezenet1_1": ModelSpec(
        network=NETWORKS["squeezenet1_1"],
        build=squeezenet1_1_layers,
        url="https://download.pytorch.org/models/squeezenet1_1-b8a52dc0.pth",
        filename="squeezenet1_1-b8a52dc0.pth",
        sha256="b8a52dc049b60e4b6ab68ad0df457362afab8b6304b2febdc1650a5dab4d7e7b",
        download_mb=5,
        halo=96,
        fp32_channels_last=True,
        # The ImageNet weights of the Caffe release (BSD 2-Clause), in torchvision's key layout.
        builtin=BuiltinWeights(
            resource="squeezenet1_1-caffe.pth.xz",
            sha256="87a624dfb1814635323c48dd83bf947578a718da64e8bc12c4601b959b34e54c",
            preprocessing="caffe",
        ),
    ),
}
BUILTIN_MODELS = tuple(name for name, entry in REGISTRY.items() if entry.builtin is not None)
"""The networks that run with no download, offline, on the first start."""


def spec(model: str) -> ModelSpec:
    """The registry entry of `model`, or a one-line error naming the choices."""
    return REGISTRY[network(model).name]


def layer_names(model: str) -> list[str]:
    """All named layers of `model`, shallow to deep."""
    return spec(model).layer_names()


def build_extractor(
    model: str,
    wanted: Iterable[str],
    state_dict: dict[str, torch.Tensor] | None,
    preprocessing: str = "torchvision",
    pooling: str = "max",
    source: str = "weights",
) -> FeatureExtractor:
    """Builds `model` truncated to the `wanted` layers; random weights if `state_dict` is None."""
    builder = spec(model).build
    width = 1.0 if state_dict is None else infer_width(state_dict)
    layers = builder(pooling=pooling, width=width)
    if state_dict is None:
        init_random(layers)
    else:
        load_state(layers, state_dict, source)
    return FeatureExtractor(layers, preprocessing, wanted)
