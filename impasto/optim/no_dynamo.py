"""Keeping torch.compile's machinery out of a run that never compiles.

torch.optim wraps some Optimizer methods (add_param_group, zero_grad, state_dict,
load_state_dict) with `torch._disable_dynamo`, which imports torch._dynamo on their first
call, only to keep torch.compile from tracing them. That import took 2.5 s of a 5.6 s
start-up (SqueezeNet, 512 px, 2-core AMD EPYC). impasto never compiles an optimiser, so
each such wrapper is handed its own function as the already-disabled one: the call goes
straight through and torch._dynamo is not imported. Anything else torch may wrap this way
is left as it is.
"""

from __future__ import annotations

import torch

_WRAPPER_CODE = torch._disable_dynamo(lambda: None).__code__


def skip_dynamo_import(cls: type = torch.optim.Optimizer) -> None:
    """Lets `cls`'s dynamo-disabled methods run without importing torch._dynamo."""
    for klass in cls.__mro__:
        for wrapper in vars(klass).values():
            original = getattr(wrapper, "__wrapped__", None)
            if getattr(wrapper, "__code__", None) is _WRAPPER_CODE and original is not None:
                setattr(original, "__dynamo_disable", getattr(original, "__dynamo_disable", original))
