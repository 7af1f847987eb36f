"""`Settings` reads its choices from the registries and imports none of the machinery."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from impasto.errors import ImpastoError
from impasto.features.catalogue import MODELS, PRECISIONS, network
from impasto.features.registry import REGISTRY
from impasto.image.choices import INITS, PRESERVE_COLOR
from impasto.losses.kinds import CONTENT_LOSSES, STYLE_LOSSES, content_loss, style_loss
from impasto.optim.optimizers import OPTIMIZERS, PARAMETERIZATIONS, optimizer, optimizer_for, optimizer_kind
from impasto.settings import Settings

CHOICES = {f.name: f.metadata.get("choices") for f in dataclasses.fields(Settings)}


def test_settings_and_defaults_import_no_torch() -> None:
    code = "import sys, impasto.settings, impasto.defaults; print(sorted(m for m in sys.modules if m.split('.')[0] == 'torch'))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", f"importing Settings loads {done.stdout.strip()}"


@pytest.mark.parametrize(
    ("field", "names"),
    [
        ("model", MODELS),
        ("precision", PRECISIONS),
        ("init", INITS),
        ("preserve_color", PRESERVE_COLOR),
        ("optimizer", tuple(OPTIMIZERS)),
        ("parameterization", PARAMETERIZATIONS),
        ("style_loss", tuple(STYLE_LOSSES)),
        ("content_loss", tuple(CONTENT_LOSSES)),
    ],
)
def test_each_choice_of_settings_is_its_registrys_names(field: str, names: tuple[str, ...]) -> None:
    assert CHOICES[field] == names


def test_every_network_of_the_catalogue_has_a_registry_entry_built_on_it() -> None:
    assert tuple(REGISTRY) == MODELS
    assert all(entry.network is network(name) for name, entry in REGISTRY.items())


def test_every_optimiser_runs_on_a_parameterisation_settings_know() -> None:
    assert {p for entry in OPTIMIZERS.values() for p in entry.parameterizations} == set(PARAMETERIZATIONS)
    for name, entry in OPTIMIZERS.items():
        for parameterization in entry.parameterizations:
            Settings(optimizer=name, parameterization=parameterization)  # every pairing the registry has is valid


@pytest.mark.parametrize(
    ("lookup", "setting", "choices"),
    [
        (lambda: optimizer("sgd"), "optimizer", tuple(OPTIMIZERS)),
        (lambda: optimizer_kind("sgd"), "optimizer", ("lbfgs", "adam-laplacian", "gd")),
        (lambda: optimizer_for("adam", "wavelet"), "parameterization", PARAMETERIZATIONS),
        (lambda: style_loss("gatys"), "style_loss", tuple(STYLE_LOSSES)),
        (lambda: content_loss("pixels"), "content_loss", tuple(CONTENT_LOSSES)),
        (lambda: network("resnet50"), "model", MODELS),
        (lambda: Settings(optimizer="sgd"), "optimizer", tuple(OPTIMIZERS)),
        (lambda: Settings(style_loss="gatys"), "style_loss", tuple(STYLE_LOSSES)),
    ],
)
def test_an_unknown_name_is_one_line_naming_the_setting_and_the_choices(lookup, setting, choices) -> None:
    with pytest.raises(ImpastoError) as error:
        lookup()
    message = str(error.value)
    assert "\n" not in message and error.value.setting == setting
    assert all(choice in message for choice in choices), message


def test_a_parameterisation_an_optimiser_lacks_names_the_optimisers_that_have_it() -> None:
    with pytest.raises(ImpastoError) as error:
        Settings(optimizer="gd", parameterization="laplacian")
    assert str(error.value) == "parameterization laplacian is optimised with --optimizer adam, not gd"
    assert error.value.setting == "parameterization"


def test_help_texts_come_from_the_registries() -> None:
    helps = {f.name: f.metadata["help"] for f in dataclasses.fields(Settings)}
    for field, registry in (("optimizer", OPTIMIZERS), ("style_loss", STYLE_LOSSES), ("content_loss", CONTENT_LOSSES)):
        assert all(f"{name} ({entry.description})" in helps[field] for name, entry in registry.items())
    assert all(f"{name} {entry.default_lr:g}" in helps["lr"] for name, entry in OPTIMIZERS.items())
