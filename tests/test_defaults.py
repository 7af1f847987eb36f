"""Defaults resolved in one place: what `resolve` fills in comes from the registries, a given value
is kept, and a record keeps the settings as given beside the resolved ones."""

from __future__ import annotations

import dataclasses

import pytest

from impasto.defaults import resolve, total_iterations
from impasto.features.catalogue import network
from impasto.losses.kinds import STYLE_LOSSES
from impasto.optim.optimizers import OPTIMIZERS
from impasto.optim.schedule import split_iterations
from impasto.record.provenance import build_record
from impasto.settings import Settings


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_the_learning_rate_and_iterate_average_are_the_optimisers_own(name: str) -> None:
    resolved = resolve(Settings(optimizer=name))
    assert resolved.lr == OPTIMIZERS[name].default_lr and resolved.ema_decay == OPTIMIZERS[name].default_ema_decay
    assert resolve(Settings(optimizer=name, lr=0.5, ema_decay=0.0)).lr == 0.5


@pytest.mark.parametrize("name", list(STYLE_LOSSES))
def test_a_one_scale_style_weight_is_the_losss_own_or_the_networks(name: str) -> None:
    resolved = resolve(Settings(model="squeezenet1_1", style_loss=name, scales=1))
    expected = STYLE_LOSSES[name].one_scale_weight or network("squeezenet1_1").style_weight
    assert resolved.style_weight == expected


def test_resolve_fills_in_every_default_that_depends_on_other_settings_and_only_those() -> None:
    given = Settings(model="squeezenet1_1")
    resolved = resolve(given)
    filled = {f.name for f in dataclasses.fields(Settings) if getattr(given, f.name) != getattr(resolved, f.name)}
    assert filled == {
        "content_layers",
        "style_layers",
        "style_layer_weights",
        "style_weight",
        "lr",
        "ema_decay",
        "scales",
    }
    assert resolved.style_layers == network("squeezenet1_1").style_layers
    assert resolve(resolved) == resolved  # resolving twice changes nothing
    assert resolve(Settings(min_size=100)).scales is None  # min_size picks the count when the sizes are made


@pytest.mark.parametrize(
    ("given", "total"), [({}, 500), ({"iterations": 7, "size": 1024}, 7), ({"scale_iterations": (3, 4, 5)}, 12)]
)
def test_a_runs_total_iterations_are_its_scales_iterations_summed(given: dict, total: int) -> None:
    settings = Settings(**given)
    assert total_iterations(settings) == total
    scales = resolve(settings).scales
    split = settings.scale_iterations or split_iterations(settings.iterations, scales or 1)
    assert sum(split) == total


def test_a_record_keeps_the_settings_as_given_and_as_the_run_resolved_them(content_path, style_path) -> None:
    given = Settings(model="squeezenet1_1", size=64)
    resolved = dataclasses.replace(resolve(given), style_weight=3.0)  # what the run used, as its caller has it
    record = build_record(
        given, content_path, [style_path], version="t", device="cpu", weights_sha256="x", resolved=resolved
    )
    assert record["settings"] == given.to_dict() and record["settings"]["lr"] is None  # a replay takes new defaults
    assert record["resolved"] == resolved.to_dict() and record["resolved"]["style_weight"] == 3.0
