"""The settings of one run: a frozen dataclass shared by the CLI, the API and the web page.

Every field's default lives here; the CLI builds its options from these fields and
their `help` metadata, so a new setting is one new field.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from impasto.image.color import PRESERVE_COLOR
from impasto.errors import ImpastoError
from impasto.features.registry import MODELS, spec
from impasto.features.precision import PRECISIONS

INITS = ("content", "gaussian", "uniform", "blend")
OPTIMIZERS = ("lbfgs", "lbfgs-pyramid", "adam", "gd")
WEIGHT_FORMATS = ("auto", "torchvision", "caffe")
DEFAULT_LR = {"lbfgs": 1.0, "lbfgs-pyramid": 1.0, "adam": 0.02, "gd": 0.01}
DEFAULT_EMA_DECAY = 0.8  # Adam's iterate average: longer averages lag (see the README's quality benchmark)


def option(help: str, **cli: Any) -> dict[str, Any]:
    """Field metadata for the CLI: its help text plus argparse extras (choices, metavar)."""
    return {"help": help, **cli}


@dataclass(frozen=True)
class Settings:
    """Everything that determines a stylisation, besides the images themselves."""

    model: str = field(default="vgg19", metadata=option("feature network", choices=MODELS))
    weights: str | None = field(
        default=None,
        metadata=option(
            "weights file (torchvision layout); default: torchvision's official weights, "
            "downloaded once and cached; 'random' for a random net (plumbing and timing only)",
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
    size: int = field(default=512, metadata=option("longest side of the output in pixels"))
    content_layers: tuple[str, ...] | None = field(
        default=None, metadata=option("content layers, comma-separated (default: the network's)")
    )
    style_layers: tuple[str, ...] | None = field(
        default=None, metadata=option("style layers, comma-separated (default: the network's)")
    )
    style_layer_weights: tuple[float, ...] | None = field(
        default=None,
        metadata=option("relative weight of each style layer, comma-separated (default: equal)"),
    )
    content_weight: float = field(default=1.0, metadata=option("weight of the content loss (alpha)"))
    style_weight: float | None = field(
        default=None,
        metadata=option("weight of the style loss (beta); higher is more stylised (default: the network's)"),
    )
    tv_weight: float = field(
        default=0.0, metadata=option("weight of the total-variation loss; higher is smoother")
    )
    init: str = field(default="content", metadata=option("starting image", choices=INITS))
    init_noise_ratio: float = field(
        default=0.5, metadata=option("share of noise in the 'blend' starting image, 0..1")
    )
    optimizer: str = field(
        default="lbfgs",
        metadata=option(
            "optimiser: lbfgs (the paper's), lbfgs-pyramid (L-BFGS preconditioned by an image pyramid; "
            "experimental, see the README's Performance section), adam, gd",
            choices=OPTIMIZERS,
        ),
    )
    iterations: int = field(default=500, metadata=option("number of iterations (loss evaluations)"))
    lr: float | None = field(
        default=None, metadata=option("learning rate (default: lbfgs 1, adam 0.02, gd 0.01)")
    )
    seed: int = field(default=0, metadata=option("random seed; the same seed repeats a CPU run exactly"))
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
        metadata=option("rescale each filter so its mean activation over the run's images is 1 (the paper's normalised net)"),
    )
    scales: int | None = field(
        default=None,
        metadata=option("number of coarse-to-fine scales, sizes growing by sqrt(2) up to --size (default: 1)"),
    )
    min_size: int | None = field(
        default=None,
        metadata=option("longest side of the first (smallest) scale; with --scales, sizes grow evenly from it"),
    )
    scale_iterations: tuple[int, ...] | None = field(
        default=None,
        metadata=option(
            "iterations at each scale, smallest first (default: --iterations split, most at the small sizes)"
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
        default=None, metadata=option("weight of each style image, comma-separated (default: equal)")
    )
    style_scale: float = field(
        default=1.0,
        metadata=option("size of the style image relative to the output; above 1 gives bigger brush strokes, below 1 finer"),
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
        metadata=option("greyscale masks of the style images, one per style: the part each style is taken from", metavar="FILE,..."),
    )
    ema_decay: float | None = field(
        default=None,
        metadata=option(
            "output the moving average of the iterates with this decay, 0 for off (default: 0.8 with adam, else off)"
        ),
    )

    def __post_init__(self) -> None:
        self._check_choice("model", MODELS)
        self._check_choice("weights_format", WEIGHT_FORMATS)
        self._check_choice("init", INITS)
        self._check_choice("optimizer", OPTIMIZERS)
        self._check_choice("pooling", ("max", "avg"))
        self._check_choice("precision", PRECISIONS)
        if self.max_memory is not None and not self.max_memory > 0:
            raise ImpastoError(f"max_memory must be a positive number of GiB, got {self.max_memory}", "max_memory")
        for name in ("size", "iterations"):
            if getattr(self, name) < 1:
                raise ImpastoError(f"{name} must be at least 1, got {getattr(self, name)}", name)
        for name in ("content_weight", "style_weight", "tv_weight"):
            value = getattr(self, name)
            if value is not None and not value >= 0:
                raise ImpastoError(f"{name} must be zero or positive, got {value}", name)
        if not 0 <= self.init_noise_ratio <= 1:
            raise ImpastoError(f"init_noise_ratio must be between 0 and 1, got {self.init_noise_ratio}", "init_noise_ratio")
        if self.lr is not None and not self.lr > 0:
            raise ImpastoError(f"lr must be positive, got {self.lr}", "lr")
        self._check_choice("preserve_color", PRESERVE_COLOR)
        for name in ("scales", "min_size"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ImpastoError(f"{name} must be at least 1, got {getattr(self, name)}", name)
        if self.scale_iterations is not None and (not self.scale_iterations or min(self.scale_iterations) < 1):
            raise ImpastoError("scale_iterations must be positive whole numbers, one per scale", "scale_iterations")
        if not self.style_scale > 0:
            raise ImpastoError(f"style_scale must be positive, got {self.style_scale}", "style_scale")
        blend = self.style_blend
        if blend is not None and (not blend or min(blend) < 0 or sum(blend) <= 0):
            raise ImpastoError("style_blend must be non-negative numbers with a positive sum, one per style", "style_blend")
        if self.ema_decay is not None and not 0 <= self.ema_decay < 1:
            raise ImpastoError(f"ema_decay must be at least 0 and below 1, got {self.ema_decay}", "ema_decay")
        weights = self.style_layer_weights
        if weights is not None and (not weights or min(weights) < 0 or sum(weights) <= 0):
            raise ImpastoError("style_layer_weights must be non-negative numbers with a positive sum", "style_layer_weights")

    def _check_choice(self, name: str, choices: tuple[str, ...]) -> None:
        if getattr(self, name) not in choices:
            raise ImpastoError(f"{name} {getattr(self, name)!r} is unknown: choose from {', '.join(choices)}", name)

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
        return dataclasses.replace(
            self,
            content_layers=self.content_layers or net.content_layers,
            style_layers=style_layers,
            style_layer_weights=layer_weights,
            style_weight=net.style_weight if self.style_weight is None else self.style_weight,
            lr=DEFAULT_LR[self.optimizer] if self.lr is None else self.lr,
            ema_decay=(DEFAULT_EMA_DECAY if self.optimizer == "adam" else 0.0) if self.ema_decay is None else self.ema_decay,
        )

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
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})

