"""Reduced precision and memory layout for the feature network.

The network's convolutions may run in bfloat16 or float16 under autocast, in the
channels-last memory layout where that is faster; the features it returns are cast
back to float32 by the losses, so Gram matrices and losses accumulate in float32.
`auto` picks what measured fastest at equal loss (see docs/performance.md):
bf16 on CUDA GPUs and CPUs with native bf16 instructions, fp16 on older CUDA GPUs,
fp32 elsewhere (Apple MPS, CPUs without bf16). The choices are named in `features.catalogue`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import nn

from impasto.features.networks import Consumers
from impasto.features.registry import spec

DTYPES = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


def cpu_has_bf16() -> bool:
    """True where the CPU has native bf16 matrix instructions (AVX512-BF16, AMX, ...)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def resolve_precision(name: str, device: torch.device) -> str:
    """The concrete precision ("fp32", "bf16" or "fp16") that `name` means on `device`."""
    if name != "auto":
        return name
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if device.type == "cpu" and cpu_has_bf16():
        return "bf16"
    return "fp32"


def uses_channels_last(precision: str, device: torch.device, model: str) -> bool:
    """Channels-last pays off with reduced precision (oneDNN on CPU, tensor cores on CUDA),
    and in fp32 on CPUs for networks whose spec says so (SqueezeNet: its evaluation is
    1.24-1.44x faster at 128-1024 px, while VGG-19's is 0.82-0.91x; benchmarks/evaluation.py)."""
    if precision != "fp32":
        return device.type in ("cpu", "cuda")
    return device.type == "cpu" and spec(model).fp32_channels_last


class Precise(nn.Module):
    """Runs a feature network in a given precision and memory layout.

    Input and output are the wrapped network's: an image in, a dict of feature maps out
    (in the reduced dtype; the losses cast them to float32). `model` names the network
    (the layout that suits it in fp32 is a property of its registry entry).
    """

    def __init__(self, network: nn.Module, precision: str, device: torch.device, model: str) -> None:
        super().__init__()
        self.network = network
        self.precision = resolve_precision(precision, torch.device(device))
        self.device_type = torch.device(device).type
        self.channels_last = uses_channels_last(self.precision, torch.device(device), model)
        if self.channels_last:
            # Module.to takes memory_format at run time; torch's type stub leaves it out.
            self.network.to(memory_format=torch.channels_last)  # type: ignore[call-overload]

    def forward(self, image: torch.Tensor, consumers: Consumers | None = None) -> dict[str, torch.Tensor]:
        if self.channels_last:
            image = image.contiguous(memory_format=torch.channels_last)
        with autocast(self.precision, self.device_type):
            return self.network(image, consumers)


@contextlib.contextmanager
def autocast(precision: str, device_type: str) -> Iterator[None]:
    """Autocast to `precision` on `device_type`; a no-op for fp32."""
    dtype = DTYPES[precision]
    if dtype is None:
        yield
        return
    with torch.autocast(device_type, dtype=dtype):
        yield
