"""A run never imports torch._dynamo (seconds of start-up), and L-BFGS steps as before."""

import subprocess
import sys

import torch

from impasto.optim.no_dynamo import skip_dynamo_import

RUN = """
import sys
from PIL import Image
from impasto import Settings, stylize
image = Image.new("RGB", (32, 32), "orange")
stylize(image, image, Settings(model="squeezenet1_1", weights="random", size=32, iterations=3))
print("torch._dynamo" in sys.modules)
"""


def test_a_run_does_not_import_dynamo():
    done = subprocess.run([sys.executable, "-c", RUN], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_lbfgs_steps_the_same_without_the_dynamo_wrapper():
    def descend() -> torch.Tensor:
        pixels = torch.linspace(-1, 1, 6, requires_grad=True)
        optimizer = torch.optim.LBFGS([pixels], lr=0.5, max_iter=1)

        def closure() -> torch.Tensor:
            optimizer.zero_grad()
            loss = (pixels - 2).pow(4).sum()
            loss.backward()
            return loss

        for _ in range(8):
            optimizer.step(closure)
        optimizer.load_state_dict(optimizer.state_dict())
        return pixels.detach()

    before = descend()
    skip_dynamo_import()
    assert torch.equal(descend(), before) and (before - 2).abs().max() < 1.5
