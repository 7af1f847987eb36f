"""The table of hostile command lines (see `corpus.hostile`): name -> how to build the case."""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable

import numpy as np
import torch
from corpus.hostile import (
    _DROP,
    Case,
    Corpus,
    _black_mask,
    _checkpoint,
    _content,
    _Evil,
    _flags,
    _hard_link,
    _mkfifo,
    _nan_weights,
    _png_claiming,
    _read_only_folder,
    _record,
    _replay,
    _replay_png,
    _resume,
    _resume_file,
    _truncated_png,
    _unreadable,
    _weights,
    _with,
)
from PIL import Image

from impasto.defaults import resolve
from impasto.features.minimum import min_side
from impasto.settings import Settings

AFRESH = "start the run afresh without it"
LONG = "x" * 252 + ".png"  # 256 bytes: one more than the file system allows


def _white_mask(c: Corpus) -> str:
    Image.new("L", (40, 30), 255).save(c.folder / "white.png")
    return "white.png"


def _tiff(c: Corpus, values: np.ndarray) -> str:
    """A TIFF of these raw samples (float or 32-bit integer: outside what impasto reads) as bad.tif."""
    Image.fromarray(values).save(c.folder / "bad.tif")
    return "bad.tif"


def _minimum() -> int:
    """The side SqueezeNet needs with its default layers (as the registry has them today)."""
    resolved = resolve(Settings(model="squeezenet1_1"))
    return min_side("squeezenet1_1", (*resolved.content_layers, *resolved.style_layers))


def _exists(name: str, *flags: object, folder: bool = False, output: str = "out.png") -> Callable[[Corpus], Case]:
    def build(c: Corpus) -> Case:
        (c.folder / name).mkdir() if folder else c.write(name, "precious")
        return Case(c.args(*flags, output=output), (f"{name} already exists", "--overwrite"))

    return build


CASES: dict[str, Callable[[Corpus], Case]] = {
    # A, P: every output distinct, none an input
    "A-comparison-is-the-result": _flags(
        "--comparison", "out.png", needles=("--comparison out.png is also the result",)
    ),
    "A-loss-log-is-the-result": _flags("--loss-log", "out.png", needles=("--loss-log out.png is also the result",)),
    "A-loss-plot-is-the-result": _flags("--loss-plot", "out.png", needles=("--loss-plot out.png is also the result",)),
    "A-loss-log-is-the-sidecar": _flags(
        "--loss-log",
        "out.jpg.json",
        output="out.jpg",
        needles=("--loss-log out.jpg.json is also the record beside the result",),
    ),
    "A-comparison-inside-frames": _with(
        lambda c: (c.folder / "out_frames").mkdir(),
        "--save-every",
        1,
        "--overwrite",
        "--comparison",
        "out_frames/0.png",
        needles=("is also the frames folder",),
    ),
    "A-comparison-is-the-content": _flags(
        "--comparison", "content.png", "--overwrite", needles=("--comparison content.png is the content image", "input")
    ),
    "A-animation-is-a-style": lambda c: Case(
        c.args("--animate", c.picture("s.gif"), "--overwrite", style="s.gif"), ("--animate s.gif is style image s.gif",)
    ),
    "A-result-is-the-weights": lambda c: Case(
        [*c.args(output=str(c.write("w.png", "x"))), "--weights", "w.png"], ("--output w.png is the weights file",)
    ),
    "A-comparison-hard-linked-to-content": _with(
        _hard_link, "--comparison", "alias.png", "--overwrite", needles=("--comparison alias.png is the content image",)
    ),
    "A-result-symlinked-to-content": lambda c: Case(
        c.args("--overwrite", output=str(c.link("alias.png", "content.png"))),
        ("--output alias.png is the content image",),
    ),
    "P-result-is-the-content-with-overwrite": _flags(
        "--overwrite",
        "--comparison",
        "cmp.png",
        output="content.png",
        needles=("--output content.png is the content image",),
    ),
    # B, K: nothing replaced without --overwrite; the frames folder a folder
    "B-sidecar-exists": _exists("out.jpg.json", output="out.jpg"),
    "B-result-exists": _exists("out.png"),
    "B-loss-log-exists": _exists("log.csv", "--loss-log", "log.csv"),
    "B-animation-exists": _exists("a.gif", "--animate", "a.gif"),
    "B-checkpoint-exists": _exists("out.ckpt", "--checkpoint-every", 1),
    "B-frames-folder-exists": _exists("out_frames", "--save-every", 1, folder=True),
    "B-dangling-symlink-at-result": lambda c: Case(
        c.args(output=str(c.link("out.png", "nowhere.png"))), ("out.png already exists",)
    ),
    "K-frames-name-is-a-file": _with(
        lambda c: c.write("out_frames", "x"),
        "--save-every",
        1,
        "--overwrite",
        needles=("--save-every out_frames is a file",),
    ),
    "comparison-is-a-folder": _with(
        lambda c: c.mkdir("cmp.png"),
        "--comparison",
        "cmp.png",
        "--overwrite",
        needles=("--comparison cmp.png is a folder",),
    ),
    "result-folder-is-a-file": _with(
        lambda c: c.write("file", "mine"),
        output="file/out.png",
        needles=("--output file/out.png: file is a file, not a folder: give a path inside a folder",),
    ),
    "result-folder-missing": _flags(
        output="nowhere/out.png", needles=("--output nowhere/out.png: folder nowhere does not exist",)
    ),
    "result-unsupported-format": _flags(output="out.bmp", needles=("--output out.bmp: unsupported file type",)),
    "bit-depth-16-as-jpeg": _flags(
        "--bit-depth", 16, output="out.jpg", needles=("--bit-depth 16 needs a .png or .tif",)
    ),
    "loss-plot-not-png": _flags("--loss-plot", "plot.svg", needles=("--loss-plot plot.svg: the plot is a PNG",)),
    "animation-not-gif-or-mp4": _flags("--animate", "a.avi", needles=("--animate a.avi: use a .gif or .mp4",)),
    "F-result-name-too-long": _flags(output=LONG, needles=("is 256 bytes long", "choose a shorter name")),
    "read-only-file-system": _with(_read_only_folder, needles=("read-only file system",), output="locked/out.png"),
    # E: below the network's minimum, named up front
    "E-image-20000x1": _content(
        lambda c: Image.new("RGB", (20000, 1)).save(c.folder / "bad.png"), "bad.png is 20000x1", "crop"
    ),
    "E-size-below-the-minimum": lambda c: Case(
        c.args("--size", _minimum() - 1),
        (f"--size {_minimum() - 1} makes", f"below the {_minimum()} px", "use a size of at least"),
    ),
    "E-min-size-1-two-scales": _flags(
        "--min-size", 1, "--scales", 2, needles=("--min-size", "1x1 px", "a min_size of at least")
    ),
    "E-style-scale-tiny": _flags(
        "--style-scale", 1e-9, needles=("--style-scale 1e-09 makes", "1x1 px", "a style_scale of at least")
    ),
    # G: every number checked, named
    "G-size-huge": _flags("--size", 10**9, needles=("--size must be at most 16,384",)),
    "G-seed-2-to-the-70": _flags("--seed", 2**70, needles=("--seed must be at most",)),
    "G-style-scale-inf": _flags("--style-scale", "inf", needles=("--style-scale must be a finite number",)),
    "G-max-memory-inf": _flags("--max-memory", "inf", needles=("--max-memory must be a finite number",)),
    "G-max-memory-tiny": _flags("--max-memory", 1e-9, needles=("--max-memory: a 32x24 result needs",)),
    "G-style-blend-nan": _flags("--style-blend", "nan,1", needles=("--style-blend must be a finite number",)),
    "G-style-blend-too-many": _flags("--style-blend", "1,2", needles=("--style-blend has 2 weights for 1 style",)),
    "G-layer-weights-nan": _flags(
        "--style-layer-weights", "nan,1,1,1,1", needles=("--style-layer-weights must be a finite",)
    ),
    "G-iterations-zero": _flags("--iterations", 0, needles=("--iterations must be at least 1",)),
    "G-iterations-not-whole": _flags("--iterations", 2.5, needles=("--iterations", "invalid int value"), code=2),
    "G-size-not-a-number": _flags("--size", "abc", needles=("--size", "invalid int value"), code=2),
    "G-lr-negative": _flags("--lr", -1, needles=("--lr must be above 0",)),
    "G-lr-nan": _flags("--lr", "nan", needles=("--lr must be a finite number",)),
    "G-all-weights-zero": _flags("--style-weight", 0, "--content-weight", 0, needles=("--style-weight", "all 0")),
    "G-unknown-layer": _flags("--content-layers", "relu9_9", needles=("--content-layers: 'relu9_9' is not a layer",)),
    "G-unknown-device": _flags("--device", "gpu", needles=("--device 'gpu' is unknown",)),
    "G-noise-ratio-2": _flags("--init-noise-ratio", 2, needles=("--init-noise-ratio must be at most 1",)),
    "G-ema-decay-1": _flags("--ema-decay", 1, needles=("--ema-decay must be below 1",)),
    "G-scale-iterations-count": _flags(
        "--scales", 2, "--scale-iterations", "1,2,3", needles=("--scale-iterations has 3 counts for 2 scale",)
    ),
    "G-scales-coincide": _flags(
        "--scales", 6, "--min-size", 30, needles=("--scales 6 is too many for size 32", "use fewer scales")
    ),
    "G-save-every-zero": _flags("--save-every", 0, needles=("--save-every must be at least 1",)),
    "G-two-content-masks-one-style": _flags(
        "--content-mask", "content.png,style.png", needles=("--content-mask has 2 file(s) for 1 style",)
    ),
    # inputs: the same loader and messages everywhere (O)
    "O-content-missing": lambda c: Case(c.args(content="nope.png"), ("content image nope.png does not exist",)),
    "O-content-empty": _content(lambda c: c.write("bad.png", b""), "bad.png is empty (0 bytes)"),
    "O-content-folder": _content(lambda c: c.mkdir("bad.png"), "bad.png is a folder"),
    "O-content-symlink-loop": _content(lambda c: c.link("bad.png", "bad.png"), "bad.png is a symbolic link loop"),
    "O-content-broken-symlink": _content(lambda c: c.link("bad.png", "gone.png"), "bad.png is a broken symbolic link"),
    "O-content-named-pipe": _content(_mkfifo, "pipe.png is not a regular file"),
    "O-content-unreadable": _content(_unreadable("bad.png"), "bad.png cannot be read: permission denied"),
    "O-content-device": lambda c: Case(c.args(content=os.devnull), ("/dev/null is not a regular file",)),
    "O-content-text": _content(lambda c: c.write("bad.png", "just some text\n"), "bad.png is not an image format"),
    "O-content-truncated": _content(lambda c: _truncated_png(c, "bad.png"), "bad.png is corrupt or truncated"),
    "O-content-random-bytes": _content(
        lambda c: c.write("bad.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 3), "bad.png"
    ),
    "O-content-pixel-bomb": _content(
        lambda c: c.write("bad.png", _png_claiming(25_000, 25_000)), "bad.png is too large"
    ),
    "O-content-float-0-255": _content(
        lambda c: _tiff(c, np.full((30, 40), 200.0, np.float32)),
        "content image bad.tif has float pixel values from 200 to 200, but float pictures are read as 0..1",
        "divide 0..255 values by 255",
    ),
    "O-content-float-nan": _content(
        lambda c: _tiff(c, np.full((30, 40), np.nan, np.float32)),
        "content image bad.tif has NaN or infinite pixel values: replace them",
    ),
    "O-style-int32-beyond-16-bit": lambda c: Case(
        c.args(style=_tiff(c, np.full((30, 40), 100_000, np.int32))),
        ("style image bad.tif has integer pixel values from 100000 to 100000, beyond the 16-bit range",),
    ),
    "O-mask-float-infinite": _with(
        lambda c: _tiff(c, np.full((30, 40), np.inf, np.float32)),
        "--content-mask",
        "bad.tif",
        needles=("--content-mask image bad.tif has NaN or infinite pixel values",),
    ),
    "O-style-missing": lambda c: Case(c.args(style="nope.png"), ("style image nope.png does not exist",)),
    "O-mask-missing": _flags("--content-mask", "nope.png", needles=("--content-mask image nope.png does not exist",)),
    "O-no-style": lambda c: Case(
        ["content.png", *c.args()[2:]], ("give a content image and at least one style image",)
    ),
    # H, L, M: checkpoints checked whole before the run
    "H-missing-pixels": _resume(("lacks 'pixels'", "start the run again"), pixels=_DROP),
    "H-wrong-pixel-shape": _resume(("its image is (1, 3, 5, 5)", AFRESH), pixels=torch.rand(1, 3, 5, 5)),
    "H-scale-out-of-range": _resume(("its scale 7 is not one of the run's 1", AFRESH), scale=7),
    "H-scale-negative": _resume(("its scale -1 is not one of the run's 1", AFRESH), scale=-1),
    "H-iteration-past-the-end": _resume(
        ("its iteration 999 is beyond the 2 iterations of scale 1", AFRESH), iteration=999
    ),
    "H-iteration-negative": _resume(("its iteration -3 is not a count of iterations", AFRESH), iteration=-3),
    "H-iteration-as-text": _resume(("'iteration' of type str", "start the run again"), iteration="3"),
    "H-elapsed-negative": _resume(("its elapsed time -1.0 is not a number of seconds", AFRESH), elapsed=-1.0),
    "H-average-of-another-image": _resume(
        ("its iterate average is not an average of this run's images", AFRESH), average=[3, torch.rand(1, 3, 5, 5)]
    ),
    "H-another-optimizer": _resume(("its optimiser state is not lbfgs's", AFRESH), optimizer="adam"),
    "H-format-from-the-future": _resume(("format 2", "upgrade impasto"), format=2),
    "H-run-not-json": _resume(("its run description is not JSON", "start the run again"), run="{oops"),
    "M-checkpoint-nan": _resume(("NaN", AFRESH), pixels=torch.full((1, 3, 24, 32), float("nan"))),
    "M-checkpoint-infinite": _resume(("NaN or infinite", AFRESH), pixels=torch.full((1, 3, 24, 32), float("inf"))),
    "M-checkpoint-pixels-0-255": _resume(
        ("its image has values from", "outside an image's 0..1 (it is damaged)", AFRESH),
        pixels=torch.rand(1, 3, 24, 32) * 255,
    ),
    "M-checkpoint-pixels-slightly-over": _resume(
        ("its image has values from 0 to 1.01, outside an image's 0..1", AFRESH),
        pixels=torch.linspace(0, 1.01, 3 * 24 * 32).reshape(1, 3, 24, 32),
    ),
    "M-checkpoint-pixels-negative": _resume(("outside an image's 0..1", AFRESH), pixels=torch.rand(1, 3, 24, 32) - 2),
    "L-checkpoint-malicious-pickle": _resume_file(pickle.dumps(_Evil()), "is not an impasto checkpoint"),
    "H-checkpoint-text": _resume_file(b"not a checkpoint\n", "is not an impasto checkpoint"),
    "H-checkpoint-empty": _resume_file(b"", "--resume checkpoint saved.ckpt is empty"),
    "H-checkpoint-missing": lambda c: Case(
        ["--resume", "nope.ckpt"], ("--resume checkpoint nope.ckpt does not exist",)
    ),
    # I: --replay through the same loaders
    "I-replay-not-an-image": _replay(
        lambda c: c.write("made.png", "text, not a PNG"), "made.png is not an image format"
    ),
    "I-replay-truncated": _replay(lambda c: _truncated_png(c, "made.png"), "made.png is corrupt or truncated"),
    "I-replay-json-not-utf8": _replay(lambda c: c.write("made.json", b'{"settings": "\xff\xfe"}'), "not UTF-8 JSON"),
    "I-replay-record-lacks-styles": _replay(lambda c: _replay_png(c, styles=_DROP), "lacks a valid 'styles' entry"),
    "I-replay-record-bad-input-entry": _replay(
        lambda c: _replay_png(c, content={"path": 3}), "lacks a valid 'content' entry"
    ),
    "I-replay-plain-png": _replay(
        lambda c: c.picture("made.png"), "carries no impasto record: replay an image impasto wrote"
    ),
    "I-replay-missing-sidecar": _replay(lambda c: c.picture("made.jpg"), "is missing"),
    "I-replay-bad-settings": _replay(
        lambda c: _replay_png(c, settings={"size": "64"}), "recorded settings are invalid"
    ),
    "I-replay-changed-input": _replay(
        lambda c: _replay_png(c, content={**_record(c)["content"], "sha256": "0" * 64}), "has changed since the run"
    ),
    # J, O, M, L: weights files (read when the network is built)
    "J-weights-missing": _weights(lambda c: "nope.pth", "--weights file nope.pth does not exist"),
    "J-weights-unreadable": _weights(_unreadable("w.pth"), "--weights file w.pth cannot be read: permission denied"),
    "O-weights-folder": _weights(lambda c: c.mkdir("w.pth"), "--weights file w.pth is a folder"),
    "O-weights-text": _weights(lambda c: c.write("w.pth", "hello"), "is not a PyTorch file (it is text)"),
    "O-weights-empty": _weights(lambda c: c.write("w.pth", b""), "--weights file w.pth is empty"),
    "O-weights-symlink-loop": _weights(lambda c: c.link("w.pth", "w.pth"), "w.pth is a symbolic link loop"),
    "O-weights-empty-name": lambda c: Case([*c.args(), "--weights", ""], ("--weights must be a non-empty text",)),
    "L-weights-malicious-pickle": _weights(lambda c: c.write("w.pth", pickle.dumps(_Evil())), "pickles Python objects"),
    "M-weights-nan": _weights(_nan_weights, "holds NaN or infinite values", "damaged"),
    # N: a mask named by its path
    "N-black-content-mask": _with(
        _black_mask,
        "--content-mask",
        "black.png",
        "--style-loss",
        "gram",
        needles=("--content-mask black.png is black everywhere", "paint the region of its style white"),
        after_weights=True,
    ),
    "N-white-content-mask-for-two-styles": lambda c: Case(
        [
            *c.args("--content-mask", _white_mask(c), "--style-loss", "gram")[:2],
            str(c.picture("second.png")),
            *c.args("--content-mask", "white.png", "--style-loss", "gram")[2:],
        ],
        ("--content-mask white.png is white everywhere", "leave the second style's region black"),
        after_weights=True,
    ),
    "H-resume-with-another-size": lambda c: Case(
        [*_checkpoint(c).argv, "--size", "64"], ("--size cannot change", "leave it out, or start a new run")
    ),
    "N-black-style-mask": _with(
        _black_mask,
        "--style-mask",
        "black.png",
        "--style-loss",
        "gram",
        needles=("--style-mask black.png is black everywhere",),
        after_weights=True,
    ),
}
