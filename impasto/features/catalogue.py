"""What impasto offers for features, as plain data that imports no PyTorch: the networks (names,
layer names, default layers, the paper's style weight) and the arithmetic precisions.

`Settings` validates against these tables; `features.registry` adds to each network how to build
it and where its weights come from. The layer names follow from the same architecture tables the
builders in `features.networks` walk (tests compare the two).
"""

from __future__ import annotations

from dataclasses import dataclass

from impasto.errors import ImpastoError

VGG19_BLOCKS = ((64, 64), (128, 128), (256, 256, 256, 256), (512, 512, 512, 512), (512, 512, 512, 512))
"""Output channels of VGG-19's convolutions, block by block (a pooling layer ends each block)."""
SQUEEZENET_FIRES = (  # (name, squeeze, expand) per fire module, in order
    ("fire2", 16, 64),
    ("fire3", 16, 64),
    ("fire4", 32, 128),
    ("fire5", 32, 128),
    ("fire6", 48, 192),
    ("fire7", 48, 192),
    ("fire8", 64, 256),
    ("fire9", 64, 256),
)
SQUEEZENET_POOLED = ("fire2", "fire4", "fire6")
"""The fire modules of SqueezeNet 1.1 that a pooling layer precedes."""
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
"""Arithmetic of the network (see `features.precision`)."""


def vgg19_layer_names() -> tuple[str, ...]:
    """conv1_1, relu1_1, ..., pool5: VGG-19's feature layers, shallow to deep."""
    names: list[str] = []
    for block, channels in enumerate(VGG19_BLOCKS, start=1):
        for i in range(1, len(channels) + 1):
            names += [f"conv{block}_{i}", f"relu{block}_{i}"]
        names.append(f"pool{block}")
    return tuple(names)


def squeezenet1_1_layer_names() -> tuple[str, ...]:
    """conv1, relu1, pool1, fire2, ..., fire9: SqueezeNet 1.1's feature layers, shallow to deep."""
    names = ["conv1", "relu1"]
    for name, _, _ in SQUEEZENET_FIRES:
        if name in SQUEEZENET_POOLED:
            names.append(f"pool{int(name[-1]) - 1}")
        names.append(name)
    return tuple(names)


@dataclass(frozen=True)
class Network:
    """One feature network as settings see it: its names, its layers and its defaults."""

    name: str
    display: str
    layers: tuple[str, ...]  # all named layers, shallow to deep
    content_layers: tuple[str, ...]
    style_layers: tuple[str, ...]
    style_weight: float  # the paper's (unnormalised Gram) style weight for this network


NETWORKS: dict[str, Network] = {
    # The paper's conv1_1 ... conv5_1 and conv4_2 are Caffe blobs rectified in place,
    # i.e. impasto's relu1_1 ... relu5_1 and relu4_2.
    "vgg19": Network(
        name="vgg19",
        display="VGG-19",
        layers=vgg19_layer_names(),
        content_layers=("relu4_2",),
        style_layers=("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"),
        style_weight=1e3,
    ),
    "squeezenet1_1": Network(
        name="squeezenet1_1",
        display="SqueezeNet 1.1",
        layers=squeezenet1_1_layer_names(),
        content_layers=("fire4",),
        # fire7 left out: its statistics describe object parts (faces, figures leaked into the
        # scene) and no result can match them, so with it the optimiser stalls (see docs/quality.md).
        style_layers=("relu1", "fire2", "fire3", "fire5"),
        style_weight=1e3,
    ),
}
MODELS = tuple(NETWORKS)


def network(model: str) -> Network:
    """The catalogue entry of `model`, or a one-line error naming the choices."""
    if model not in NETWORKS:
        raise ImpastoError(f"unknown model {model!r}: choose from {', '.join(MODELS)}", "model")
    return NETWORKS[model]
