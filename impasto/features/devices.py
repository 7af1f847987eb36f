"""Choosing the compute device."""

from __future__ import annotations

import torch

from impasto.errors import ImpastoError


def select_device(name: str = "auto") -> torch.device:
    """`auto` picks CUDA, then Apple MPS, then the CPU; a named device must exist."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ImpastoError(f"unknown device {name!r}: use auto, cpu, cuda, cuda:N or mps") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ImpastoError(f"device {name}: no CUDA GPU is available here; use --device cpu or auto", "device")
    if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
        raise ImpastoError(f"--device {name}: only {torch.cuda.device_count()} CUDA device(s) here; pick a lower index")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ImpastoError(f"device {name}: Apple MPS is not available here; use --device cpu or auto", "device")
    if device.type not in ("cpu", "cuda", "mps"):
        raise ImpastoError(f"unsupported device {name!r}: use auto, cpu, cuda, cuda:N or mps")
    return device
