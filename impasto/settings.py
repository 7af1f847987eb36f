"""The settings of one run: a frozen dataclass shared by the CLI, the API and the web page.

Every field's default lives here; the CLI builds its options from these fields and
their `help` metadata, so a new setting is one new field. The choices come from the
registries (networks, optimisers, losses, images), read as plain data: importing this
module imports no PyTorch. Defaults that depend on other settings are filled in by
`impasto.defaults.resolve`.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from typing import Any

from impasto.errors import ImpastoError
from impasto.features.catalogue import MODELS, PRECISIONS, network
from impasto.fields import check_fields
from impasto.image.choices import INITS, PRESERVE_COLOR
from impasto.losses.kinds import CONTENT_LOSSES, STYLE_LOSSES
from impasto.optim.optimizers import OPTIMIZERS, PARAMETERIZATIONS, optimizer_for
from impasto.optim.schedule import scale_sizes

WEIGHT_FORMATS = ("auto", "torchvision", "caffe")
ACTIVATION_SMOOTHINGS = ("none", "softmax")  # see impasto.losses.smoothing
STOP_TOLERANCE = 0.01  # measured: see docs/performance.md
MAX_SIZE = 16_384
"""The largest output side: print size (1.4 m at 300 dpi); more would not fit a machine's memory."""
MAX_ITERATIONS = 10_000_000
MAX_SEED = 2**63 - 1
DEVICE_PATTERN = re.compile(r"auto|cpu|mps|cuda(:[0-9]+)?")


def option(help: str, **cli: Any) -> dict[str, Any]:
    """Field metadata: its help text, argparse extras (choices, metavar) and the bounds that
    `impasto.fields.check_fields` enforces (minimum, maximum, above, below)."""
    return {"help": help, **cli}


def _described(entries: dict[str, Any]) -> str:
    """A registry's choices for a help text: "name (description); ..."."""
    return "; ".join(f"{name} ({entry.description})" for name, entry in entries.items())


# What the help texts say of the registries' entries, read from them.
_LAPLACIAN_TAKERS = " or ".join(name for name, entry in OPTIMIZERS.items() if "laplacian" in entry.kinds)
_NOT_RELATIVE = " and ".join(name for name, kind in STYLE_LOSSES.items() if not kind.relative)
_WITH_STYLE_LAYERS = " and ".join(name for name, kind in CONTENT_LOSSES.items() if kind.with_style_layers)
_DEFAULT_LR = ", ".join(f"{name} {entry.default_lr:g}" for name, entry in OPTIMIZERS.items())
_AVERAGED = ", ".join(
    f"{entry.default_ema_decay:g} with {name}" for name, entry in OPTIMIZERS.items() if entry.default_ema_decay
)


@dataclass(frozen=True)
class Settings:
    """Everything that determines a stylisation, besides the images themselves."""

    model: str = field(default="vgg19", metadata=option("feature network", choices=MODELS))
    weights: str | None = field(
        default=None,
        metadata=option(
            "weights file (torchvision layout); default: the network's own, built in for squeezenet1_1 "
            "(no download) and torchvision's official file for vgg19 (downloaded once and cached; "
            "`impasto weights` lists them); 'official' for torchvision's download of either network; "
            "'random' for a random net (plumbing and timing only)",
            metavar="FILE",
        ),
    )
    weights_format: str = field(
        default="auto",
        metadata=option(
            "preprocessing the weights expect: torchvision (RGB, ImageNet mean/std) or "
            "caffe (BGR 0..255, Caffe mean); auto detects known files and '*caffe*' names",
            choices=WEIGHT_FORMATS,
        ),
    )
    size: int = field(default=512, metadata=option("longest side of the output in pixels", minimum=1, maximum=MAX_SIZE))
    content_layers: tuple[str, ...] | None = field(
        default=None, metadata=option("content layers, comma-separated (default: the network's)")
    )
    style_layers: tuple[str, ...] | None = field(
        default=None, metadata=option("style layers, comma-separated (default: the network's)")
    )
    style_layer_weights: tuple[float, ...] | None = field(
        default=None,
        metadata=option("relative weight of each style layer, comma-separated (default: equal)", minimum=0),
    )
    content_weight: float = field(default=1.0, metadata=option("weight of the content loss (alpha)", minimum=0))
    content_loss: str = field(
        default="feature",
        metadata=option(
            f"content loss: {_described(CONTENT_LOSSES)}; the default layers of {_WITH_STYLE_LAYERS} are the "
            "content and style layers together",
            choices=tuple(CONTENT_LOSSES),
        ),
    )
    style_weight: float | None = field(
        default=None,
        metadata=option(
            "style strength (beta): with the normalised style losses the same value stylises every artwork "
            "and network about equally, higher is more stylised; with --style-loss gram the paper's weight "
            "(default: per loss, see docs/quality.md)",
            minimum=0,
        ),
    )
    style_loss: str = field(
        default="w2",
        metadata=option(
            f"style loss: {_described(STYLE_LOSSES)}; all but {_NOT_RELATIVE} also divide the content loss by its "
            "target's size",
            choices=tuple(STYLE_LOSSES),
        ),
    )
    activation_smoothing: str = field(
        default="none",
        metadata=option(
            "transform of every style layer's activations before the style loss, the artwork's and the output's "
            "alike: softmax is SWAG's (Wang et al. 2021; at each position, the softmax over the channels, times "
            "their count), for networks whose activations are peaky; works with every style loss, masks, "
            "blended styles and tiles; it keeps more of the photo at the same --style-weight (about 3x gives a "
            "comparable result, see docs/quality-levers.md)",
            choices=ACTIVATION_SMOOTHINGS,
        ),
    )
    tv_weight: float = field(
        default=0.0, metadata=option("weight of the total-variation loss; higher is smoother", minimum=0)
    )
    init: str = field(default="content", metadata=option("starting image", choices=INITS))
    init_noise_ratio: float = field(
        default=0.5, metadata=option("share of noise in the 'blend' starting image, 0..1", minimum=0, maximum=1)
    )
    optimizer: str = field(
        default="lbfgs",
        metadata=option(f"optimiser: {_described(OPTIMIZERS)}", choices=tuple(OPTIMIZERS)),
    )
    parameterization: str = field(
        default="pixels",
        metadata=option(
            "what the optimiser changes: the pixels, or the coefficients of the image's Laplacian pyramid "
            f"(STROTSS, NNST: large shapes move as fast as strokes; takes --optimizer {_LAPLACIAN_TAKERS})",
            choices=PARAMETERIZATIONS,
        ),
    )
    iterations: int = field(
        default=500, metadata=option("number of iterations (loss evaluations)", minimum=1, maximum=MAX_ITERATIONS)
    )
    lr: float | None = field(default=None, metadata=option(f"learning rate (default: {_DEFAULT_LR})", above=0))
    seed: int = field(
        default=0, metadata=option("random seed; the same seed repeats a CPU run exactly", minimum=0, maximum=MAX_SEED)
    )
    device: str = field(default="auto", metadata=option("cpu, cuda, cuda:N, mps, or auto"))
    precision: str = field(
        default="auto",
        metadata=option(
            "arithmetic of the network: auto picks bf16 where the CPU or GPU has it, else fp32; "
            "losses are always accumulated in fp32",
            choices=PRECISIONS,
        ),
    )
    max_memory: float | None = field(
        default=None,
        metadata=option(
            "memory the run may use, in GiB (default: 80%% of the GPU's or the machine's); "
            "above it the largest scales are evaluated in tiles",
            metavar="GIB",
            above=0,
        ),
    )
    pooling: str = field(
        default="max",
        metadata=option(
            "pooling layers of the network; avg is rescaled to keep max pooling's activation size",
            choices=("max", "avg"),
        ),
    )
    normalize_vgg: bool = field(
        default=False,
        metadata=option(
            "rescale each filter so its mean activation over the run's images is 1 (the paper's normalised net)"
        ),
    )
    scales: int | None = field(
        default=None,
        metadata=option(
            "number of coarse-to-fine scales, sizes growing by sqrt(2) up to --size "
            "(default: enough to start at 256 px or below, at least 3, none under 128 px)",
            minimum=1,
        ),
    )
    min_size: int | None = field(
        default=None,
        metadata=option(
            "longest side of the first (smallest) scale; with --scales, sizes grow evenly from it", minimum=1
        ),
    )
    scale_iterations: tuple[int, ...] | None = field(
        default=None,
        metadata=option(
            "iterations at each scale, smallest first (default: --iterations split, most at the small sizes)",
            minimum=1,
        ),
    )
    preserve_color: str = field(
        default="none",
        metadata=option(
            "keep the content's colours: luminance-only transfer, or the style recoloured to the content's",
            choices=PRESERVE_COLOR,
        ),
    )
    style_blend: tuple[float, ...] | None = field(
        default=None, metadata=option("weight of each style image, comma-separated (default: equal)", minimum=0)
    )
    style_scale: float = field(
        default=1.0,
        metadata=option(
            "size of the style image relative to the output; above 1 gives bigger brush strokes, below 1 finer", above=0
        ),
    )
    content_mask: tuple[str, ...] | None = field(
        default=None,
        metadata=option(
            "greyscale masks of the content, one per style (white: that style); with two styles one mask "
            "gives the first style its white part and the second the rest",
            metavar="FILE,...",
        ),
    )
    style_mask: tuple[str, ...] | None = field(
        default=None,
        metadata=option(
            "greyscale masks of the style images, one per style: the part each style is taken from", metavar="FILE,..."
        ),
    )
    stop_tolerance: float = field(
        default=STOP_TOLERANCE,
        metadata=option(
            "end each scale once the total loss fell by less than this fraction over the last 50 iterations "
            "(the picture no longer changes visibly); 0 runs all --iterations"
        ),
    )
    ema_decay: float | None = field(
        default=None,
        metadata=option(
            f"output the moving average of the iterates with this decay, 0 for off (default: {_AVERAGED}, else off)",
            minimum=0,
            below=1,
        ),
    )

    def __post_init__(self) -> None:
        check_fields(self)  # every field's type, finiteness, bounds and choices
        self._check_combinations()
        if not 0 <= self.stop_tolerance < 1:
            raise ImpastoError(
                f"stop_tolerance must be at least 0 and below 1, got {self.stop_tolerance}", "stop_tolerance"
            )

    def _check_combinations(self) -> None:
        """What no single field can check: layers of the chosen network, sums, scales and sizes."""
        net = network(self.model)
        names = net.layers
        for name in ("content_layers", "style_layers"):
            unknown = [layer for layer in getattr(self, name) or () if layer not in names]
            if unknown:
                raise ImpastoError(
                    f"{name}: {unknown[0]!r} is not a layer of {net.display}; choose from {', '.join(names)}", name
                )
        for name in ("style_blend", "style_layer_weights"):
            values = getattr(self, name)
            if values is not None and not 0 < math.fsum(values) < math.inf:
                raise ImpastoError(f"{name} must have a positive, finite sum, got {', '.join(map(str, values))}", name)
        layers = len(self.style_layers or net.style_layers)
        if self.style_layer_weights is not None and len(self.style_layer_weights) != layers:
            raise ImpastoError(
                f"style_layer_weights has {len(self.style_layer_weights)} values for {layers} style layers: give one per layer",
                "style_layer_weights",
            )
        if self.style_weight == 0 and self.content_weight == 0 and self.tv_weight == 0:
            raise ImpastoError(
                "style_weight, content_weight and tv_weight are all 0: nothing to optimise; make one positive",
                "style_weight",
            )
        for name in ("scales", "min_size"):
            if (getattr(self, name) or 0) > self.size:
                raise ImpastoError(f"{name} must be at most the size ({self.size}), got {getattr(self, name)}", name)
        scale_sizes(self.size, self.scales, self.min_size)  # names scales or min_size if they clash
        style_side = round(self.size * self.style_scale)
        if style_side > MAX_SIZE:
            raise ImpastoError(
                f"style_scale {self.style_scale} makes the style image {style_side:,} px at size {self.size}: "
                f"the limit is {MAX_SIZE:,} px; lower it",
                "style_scale",
            )
        optimizer_for(self.optimizer, self.parameterization)  # names the optimisers that take the parameterisation
        if not DEVICE_PATTERN.fullmatch(self.device):
            raise ImpastoError(f"device {self.device!r} is unknown: use auto, cpu, cuda, cuda:N or mps", "device")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Settings:
        """The inverse of `to_dict`; unknown keys are an error naming them."""
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ImpastoError(f"unknown setting {unknown[0]!r}: known settings are {', '.join(known)}", unknown[0])
        fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
        return cls(**fields)
