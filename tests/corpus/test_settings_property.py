"""Property: any combination of setting values, however hostile, either validates or raises one
line of ImpastoError naming a field; once valid, resolving the settings and the first steps
of a tiny run raise nothing but ImpastoError."""

from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from PIL import Image

from impasto import ImpastoError, Settings, StopToken, Stylizer
from impasto.defaults import resolve
from impasto.features.registry import layer_names

FIELDS = {f.name for f in dataclasses.fields(Settings)}
HOSTILE = st.sampled_from(
    [
        None,
        0,
        -1,
        1,
        2,
        0.5,
        -0.5,
        1e308,
        -1e308,
        math.inf,
        -math.inf,
        math.nan,
        2**70,
        -(2**70),
        True,
        "",
        "64",
        "nan",
        [],
        [1],
        (0.0,),
        [math.nan, 1.0],
        "x" * 300,
        b"bytes",
        {},
    ]
)
LAYERS = layer_names("squeezenet1_1")


def _numbers(integers: bool) -> st.SearchStrategy:
    whole = st.integers(min_value=-3, max_value=70) | st.sampled_from([0, 1, 2**63 - 1, 2**63, 10**9])
    real = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([0.0, 1e-12, 0.999999, 1.0, 1e39])
    return (whole if integers else real) | HOSTILE


VALUES = {
    "model": st.sampled_from(["vgg19", "squeezenet1_1", "resnet", ""]) | HOSTILE,
    "weights": st.sampled_from([None, "random", "", ".", "/nonexistent.pth"]) | HOSTILE,
    "size": _numbers(True),
    "iterations": _numbers(True),
    "seed": _numbers(True),
    "scales": _numbers(True),
    "min_size": _numbers(True),
    "content_layers": st.lists(st.sampled_from([*LAYERS, "relu4_2", "nope"]), max_size=3).map(tuple) | HOSTILE,
    "style_layers": st.lists(st.sampled_from([*LAYERS, "relu1_1", "nope"]), max_size=4).map(tuple) | HOSTILE,
    "style_layer_weights": st.lists(_numbers(False), max_size=5).map(tuple) | HOSTILE,
    "style_blend": st.lists(_numbers(False), max_size=3).map(tuple) | HOSTILE,
    "scale_iterations": st.lists(_numbers(True), max_size=3).map(tuple) | HOSTILE,
    "device": st.sampled_from(["auto", "cpu", "cuda", "cuda:7", "mps", "gpu", "cpu:0"]) | HOSTILE,
}


def _value(name: str) -> st.SearchStrategy:
    if name in VALUES:
        return VALUES[name]
    field = next(f for f in dataclasses.fields(Settings) if f.name == name)
    choices = field.metadata.get("choices")
    if choices:
        return st.sampled_from([*choices, "bogus"]) | HOSTILE
    kind = field.type if isinstance(field.type, str) else ""
    return _numbers("int" in kind) if ("float" in kind or "int" in kind) else st.booleans() | HOSTILE


SETTINGS = st.fixed_dictionaries({}, optional={name: _value(name) for name in sorted(FIELDS)})


@hypothesis_settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SETTINGS)
def test_any_settings_validate_or_name_the_field(values) -> None:
    try:
        made = Settings(**values)
    except ImpastoError as error:
        assert error.setting in FIELDS and "\n" not in str(error)
        return
    try:
        resolve(made)
    except ImpastoError as error:
        assert error.setting in FIELDS and "\n" not in str(error)


PLAUSIBLE = {  # values a user might well give a tiny run: mostly valid, sometimes at the edges
    "content_layers": st.lists(st.sampled_from(LAYERS), min_size=1, max_size=2).map(tuple),
    "style_layers": st.lists(st.sampled_from(LAYERS), min_size=1, max_size=3).map(tuple),
    "style_layer_weights": st.lists(st.floats(0, 10), min_size=1, max_size=3).map(tuple),
    "style_blend": st.lists(st.floats(0, 10), min_size=1, max_size=2).map(tuple),
    "scale_iterations": st.lists(st.integers(1, 2), min_size=1, max_size=2).map(tuple),
    "scales": st.integers(1, 3),
    "min_size": st.integers(1, 48),
    "seed": st.integers(0, 2**63 - 1),
    "lr": st.floats(1e-6, 1e6),
    "max_memory": st.floats(1e-6, 64),
    "style_scale": st.floats(0.01, 4),
    "content_mask": st.none(),
    "style_mask": st.none(),
}


def _plausible(name: str) -> st.SearchStrategy:
    if name in PLAUSIBLE:
        return PLAUSIBLE[name]
    field = next(f for f in dataclasses.fields(Settings) if f.name == name)
    if field.metadata.get("choices"):
        return st.sampled_from(field.metadata["choices"])
    kind = str(field.type)
    if "bool" in kind:
        return st.booleans()
    return st.floats(0, 1, exclude_max=True) if "float" in kind else st.integers(1, 3)


RUNNABLE = st.fixed_dictionaries(
    {
        "model": st.just("squeezenet1_1"),
        "weights": st.just("random"),
        "device": st.just("cpu"),
        "size": st.integers(1, 48),
        "iterations": st.integers(1, 3),
    },
    optional={name: _plausible(name) for name in sorted(FIELDS - {"model", "weights", "device", "size", "iterations"})},
)


@pytest.mark.slow
@hypothesis_settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(RUNNABLE)
def test_valid_settings_run_or_fail_with_one_line(values) -> None:
    try:
        made = Settings(**values)
    except ImpastoError:
        event("refused by Settings")
        return
    event("ran")
    stop = StopToken()
    picture = Image.linear_gradient("L").convert("RGB").resize((40, 30))
    try:
        Stylizer(made).run(picture, picture, stop=stop, callback=lambda it: stop.stop())
    except ImpastoError as error:
        assert "\n" not in str(error)
