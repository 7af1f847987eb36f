"""`--replay IMAGE` and `--resume CKPT`: a run's inputs, settings and outputs taken from
an output's provenance record or from a checkpoint instead of the command line."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

from impasto.errors import ImpastoError
from impasto.features.registry import spec
from impasto.features.weights import OFFICIAL, names_a_file
from impasto.files import short_stem
from impasto.record.checkpoint import Checkpoint, load_checkpoint
from impasto.record.options import OutputOptions
from impasto.record.provenance import read_record, recorded_settings, replay_inputs
from impasto.settings import Settings

RESUME_CHANGEABLE = ("device",)
"""Settings that may differ on --resume: any other change would not continue the same run."""


def given_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The Settings fields named on the command line (the others are absent from `args`)."""
    names = {f.name for f in dataclasses.fields(Settings)}
    return {k: v for k, v in vars(args).items() if k in names}


def prepare(args: argparse.Namespace) -> tuple[Settings, Checkpoint | None]:
    """Fills `args` (content, style, output, options) from --replay or --resume and
    returns the run's settings and, for --resume, the checkpoint."""
    if args.replay and args.resume:
        raise ImpastoError("--replay and --resume exclude each other: give one")
    if args.content or args.style:
        flag = "--replay" if args.replay else "--resume"
        raise ImpastoError(f"{flag} takes the images from its record: leave out the content and style paths")
    return (_replay(args), None) if args.replay else _resume(args)


def _replay(args: argparse.Namespace) -> Settings:
    record = read_record(args.replay)
    args.content, args.style = replay_inputs(record)
    overrides = given_settings(args)
    settings = _checked(
        lambda: recorded_settings(record, overrides), overrides, f"--replay {args.replay}: its recorded"
    )
    if "weights" not in overrides and "model" not in overrides:
        args.recorded_weights = record["weights_sha256"]
        settings = _recorded_weights(settings, record["weights_sha256"])
    if args.output is None:
        source = Path(args.replay)
        args.output = str(source.with_name(f"{short_stem(source)}_replay.png"))
    return settings


def _recorded_weights(settings: Settings, digest: str) -> Settings:
    """The weights a record's digest names where its settings alone would now load others: the
    official download from before the network had built-in weights, or a copy of the built-in
    weights that is no longer there (the built-in ones are the very same tensors)."""
    builtin = spec(settings.model).builtin
    if builtin is None:
        return settings
    if settings.weights is None and digest == spec(settings.model).sha256:
        return dataclasses.replace(settings, weights=OFFICIAL)
    gone = (
        settings.weights is not None
        and names_a_file(settings.weights)
        and not Path(settings.weights).expanduser().exists()
    )
    return dataclasses.replace(settings, weights=None) if gone and digest == builtin.sha256 else settings


def check_replayed_weights(args: argparse.Namespace, settings: Settings, weights_sha256: str) -> None:
    """With --replay, the loaded weights must be the recorded run's (their hash, taken once on loading)."""
    expected = getattr(args, "recorded_weights", None)
    if expected is not None and weights_sha256 != expected:
        raise ImpastoError(
            f"--replay {args.replay}: the weights {settings.weights or 'file'} differ from the recorded run's "
            f"(sha256 {expected[:12]}...): give the original file with --weights"
        )


def _resume(args: argparse.Namespace) -> tuple[Settings, Checkpoint]:
    checkpoint = load_checkpoint(args.resume)
    run = checkpoint.run
    changed = sorted(set(given_settings(args)) - set(RESUME_CHANGEABLE))
    if changed:
        raise ImpastoError(
            f"--resume continues the saved run with its settings: --{changed[0].replace('_', '-')} "
            f"cannot change (only --{', --'.join(RESUME_CHANGEABLE)} can): leave it out, or start a new run"
        )
    given = given_settings(args)
    settings = _checked(
        lambda: Settings.from_dict({**run["settings"], **given}), given, f"--resume {args.resume}: its saved"
    )
    args.content, args.style = run["content"], list(run["style"])
    args.output = args.output or run["output"]
    for name in OutputOptions.KEPT:
        if getattr(args, name) is None:
            setattr(args, name, run["options"].get(name))
    args.overwrite = True  # the run's own files, written again as it goes on
    return settings, checkpoint


def _checked(make: Callable[[], Settings], given: dict[str, Any], whose: str) -> Settings:
    """Settings from a record or checkpoint plus the options `given`: an invalid recorded
    setting is named as that file's, an invalid given one as its own option."""
    try:
        return make()
    except ImpastoError as error:
        if error.setting in given:
            raise
        raise ImpastoError(f"{whose} settings are invalid ({error}): re-run the original command") from None
