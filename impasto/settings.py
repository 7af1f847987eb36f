"""The settings of one run: a frozen dataclass shared by the CLI, the API and the web page.

Every field's default lives here; the CLI builds its options from these fields and
their `help` metadata, so a new setting is one new field.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from typing import Any

from impasto.errors import ImpastoError
from impasto.features.precision import PRECISIONS
from impasto.features.registry import MODELS, spec
from impasto.fields import check_fields
from impasto.image.color import PRESERVE_COLOR
from impasto.image.initial import INITS
from impasto.optim.schedule import default_scales, scale_sizes

OPTIMIZERS = ("lbfgs", "lbfgs-pyramid", "adam", "gd")
WEIGHT_FORMATS = ("auto", "torchvision", "caffe")
DEFAULT_LR = {"lbfgs": 1.0, "lbfgs-pyramid": 1.0, "adam": 0.02, "gd": 0.01}
STYLE_LOSSES = ("gram", "gram-relative", "w2", "hist", "swd")
CONTENT_LOSSES = ("feature", "self-similarity")
PARAMETERIZATIONS = ("pixels", "laplacian")
# The style weight each normalised loss defaults to in a one-scale run, for every network (see the
# docs/quality.md); "gram", the paper's loss, takes the network's own (registry) weight.
DEFAULT_STYLE_WEIGHT = {"gram-relative": 30.0, "w2": 20.0, "hist": 30.0, "swd": 20.0}
HALVED_UP_TO_SCALES = 3  # the default strength halves per coarser scale up to this many (measured)
STOP_TOLERANCE = 0.01  # measured: see docs/performance.md
MAX_SIZE = 16_384
"""The largest output side: print size (1.4 m at 300 dpi); more would not fit a machine's memory."""
MAX_ITERATIONS = 10_000_000
MAX_SEED = 2**63 - 1
DEVICE_PATTERN = re.compile(r"auto|cpu|mps|cuda(:[0-9]+)?")
DEFAULT_EMA_DECAY = 0.8  # Adam's iterate average: longer averages lag (see docs/quality.md)


def option(help: str, **cli: Any) -> dict[str, Any]:
    """Field metadata: its help text, argparse extras (choices, metavar) and the bounds that
    `impasto.fields.check_fields` enforces (minimum, maximum, above, below)."""
    return {"help": help, **cli}


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
            "content loss: feature (the paper's, the photo's features themselves) or self-similarity "
            "(STROTSS: which places look alike, at 1024 fixed positions; keeps the layout and lets surfaces "
            "be repainted; its default layers are the content and style layers together)",
            choices=CONTENT_LOSSES,
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
            "style loss: gram (the paper's, unnormalised), gram-relative (Gram difference over the target "
            "Gram's size), w2 (Wasserstein-2 of feature mean and covariance), hist (gram-relative plus "
            "per-channel histogram matching), swd (sliced Wasserstein: the whole distribution of activations along "
            "random directions); all but gram also divide the content loss by its target's size",
            choices=STYLE_LOSSES,
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
        metadata=option(
            "optimiser: lbfgs (the paper's), lbfgs-pyramid (L-BFGS preconditioned by an image pyramid; "
            "experimental, see docs/performance.md), adam, gd",
            choices=OPTIMIZERS,
        ),
    )
    parameterization: str = field(
        default="pixels",
        metadata=option(
            "what the optimiser changes: the pixels, or the coefficients of the image's Laplacian pyramid "
            "(STROTSS, NNST: large shapes move as fast as strokes; takes --optimizer adam)",
            choices=PARAMETERIZATIONS,
        ),
    )
    iterations: int = field(
        default=500, metadata=option("number of iterations (loss evaluations)", minimum=1, maximum=MAX_ITERATIONS)
    )
    lr: float | None = field(
        default=None, metadata=option("learning rate (default: lbfgs 1, adam 0.02, gd 0.01)", above=0)
    )
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
            "output the moving average of the iterates with this decay, 0 for off (default: 0.8 with adam, else off)",
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
        net = spec(self.model)
        names = net.layer_names()
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
        if self.parameterization == "laplacian" and self.optimizer != "adam":
            raise ImpastoError(
                f"parameterization laplacian is optimised with --optimizer adam, not {self.optimizer}; "
                "lbfgs-pyramid is L-BFGS's form of it",
                "parameterization",
            )
        if not DEVICE_PATTERN.fullmatch(self.device):
            raise ImpastoError(f"device {self.device!r} is unknown: use auto, cpu, cuda, cuda:N or mps", "device")

    def resolved(self) -> Settings:
        """A copy with every network-dependent default filled in."""
        net = spec(self.model)
        style_layers = self.style_layers or net.style_layers
        layer_weights = self.style_layer_weights or (1.0,) * len(style_layers)
        if len(layer_weights) != len(style_layers):
            raise ImpastoError(
                f"style_layer_weights has {len(layer_weights)} values for {len(style_layers)} style layers: give one per layer",
                "style_layer_weights",
            )
        scales = self._default_scales() if self.scales is None else self.scales
        return dataclasses.replace(
            self,
            content_layers=self.content_layers or self._default_content_layers(),
            style_layers=style_layers,
            style_layer_weights=layer_weights,
            style_weight=self._default_style_weight(net.style_weight, scales)
            if self.style_weight is None
            else self.style_weight,
            lr=DEFAULT_LR[self.optimizer] if self.lr is None else self.lr,
            ema_decay=(DEFAULT_EMA_DECAY if self.optimizer == "adam" else 0.0)
            if self.ema_decay is None
            else self.ema_decay,
            scales=scales,
        )

    def _default_content_layers(self) -> tuple[str, ...]:
        """The network's content layers; for self-similarity its content and style layers, shallow to deep."""
        net = spec(self.model)
        if self.content_loss == "feature":
            return net.content_layers
        wanted = {*net.content_layers, *(self.style_layers or net.style_layers)}
        return tuple(layer for layer in net.layer_names() if layer in wanted)

    def _default_scales(self) -> int | None:
        """One per `scale_iterations`, else min_size's count (left open), else `default_scales`."""
        if self.scale_iterations is not None:
            return len(self.scale_iterations)
        return None if self.min_size is not None else default_scales(self.size, self.iterations)

    def _default_style_weight(self, paper_weight: float, scales: int | None) -> float:
        """The network's paper weight for the paper's loss, else the normalised loss's one-scale
        strength halved for each coarser scale up to HALVED_UP_TO_SCALES: a coarse scale lays the style
        out and the finer ones keep it, so a coarse-to-fine run stylises more at the same weight
        (measured: one scale at 20 and three at 5 give the benchmark's best results; more scales
        add less and keep three's weight)."""
        if self.style_loss == "gram":
            return paper_weight
        count = min(len(scale_sizes(self.size, scales, self.min_size)), HALVED_UP_TO_SCALES)
        return DEFAULT_STYLE_WEIGHT[self.style_loss] / 2 ** (count - 1)

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
