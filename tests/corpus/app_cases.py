"""Hostile command lines of `impasto video` and `impasto batch` (see `corpus.hostile`): an
output that is an input under any name (the clip, a style, a mask, the weights, the pairs
file; by a link or another spelling; inside the frames folder), a user's file in the way,
kept frames whose inputs changed since, a folder that cannot be written. Each must end in
one line naming the file and the fix, before the network is built, changing nothing; a
refusal to replace an input never suggests --overwrite."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import imageio_ffmpeg
import torch
from corpus.hostile import Case, Corpus, _read_only_folder
from corpus.pictures import noise
from PIL import Image

from impasto.apps.cli import main

VIDEO_RUN = ["--model", "squeezenet1_1", "--weights", "random", "--size", "32", "--iterations", "2",
             "--frame-iterations", "1", "--frames", "2", "--style-loss", "gram", "--quiet"]  # fmt: skip
BATCH_RUN = ["--model", "squeezenet1_1", "--weights", "random", "--size", "32", "--iterations", "2",
             "--style-loss", "gram", "--quiet"]  # fmt: skip
"""Tiny, quick runs: the Gram style loss (the default, w2, takes an eigendecomposition per layer)."""
NO_OVERWRITE = ("pass --overwrite",)
"""Never said when the file in the way is an input: --overwrite would destroy it."""


def make_clip(
    folder: Path, name: str = "clip.mp4", *, pattern: str = "testsrc", rate: float = 10, sar: int = 1, frames: int = 3
) -> Path:
    """A small clip of ffmpeg's test `pattern` (32x24 px stored, each pixel `sar` times as wide as tall)."""
    source = f"{pattern}=size=32x24:rate={rate}"
    pixels = ["-pix_fmt", "yuv420p"] if name.endswith(".mp4") else []
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "lavfi", "-i", source,
               "-frames:v", str(frames), "-vf", f"setsar={sar}", *pixels, str(folder / name)]  # fmt: skip
    subprocess.run(command, check=True)
    return Path(name)


def _video(
    *flags: object,
    needles: tuple[str, ...],
    output: str = "out.mp4",
    clip: str = "clip.mp4",
    styles: tuple[str, ...] = ("style.png",),
    prepare: Callable[[Corpus], object] = lambda c: None,
    absent: tuple[str, ...] = (),
) -> Callable[[Corpus], Case]:
    def build(c: Corpus) -> Case:
        make_clip(c.folder)
        prepare(c)
        argv = ["video", clip, *styles, "-o", output, *VIDEO_RUN, *map(str, flags)]
        return Case(argv, needles, absent=absent)

    return build


def _elsewhere(c: Corpus, name: str) -> str:
    """`name` spelled through the folder above: ../FOLDER/name."""
    return f"../{c.folder.name}/{name}"


def _picture_in(c: Corpus, name: str, fmt: str | None = None) -> Path:
    (c.folder / name).parent.mkdir(parents=True, exist_ok=True)
    noise(seed=3).save(c.folder / name, fmt)
    return Path(name)


def _stale(
    edit: Callable[[Corpus], object],
    *flags: object,
    weights: bool = False,
    prepare: Callable[[Corpus], object] = lambda c: None,
) -> Callable[[Corpus], Case]:
    """A one-frame video run made, its output removed (its frames kept to go on), then an input
    edited in place and the same command run again."""

    def build(c: Corpus) -> Case:
        make_clip(c.folder)
        prepare(c)
        short = ["--frames", "1", "--iterations", "1"]
        argv = ["video", "clip.mp4", "style.png", "-o", "out.mp4", *VIDEO_RUN, *short, *map(str, flags)]
        if weights:
            from conftest import squeezenet_file

            (c.folder / "w.pth").write_bytes(squeezenet_file())
            argv[argv.index("random")] = "w.pth"
        assert main(argv) == 0
        (c.folder / "out.mp4").unlink()
        edit(c)
        return Case(argv, ("out_frames holds frames made from another version of", "delete the folder"))

    return build


def _edit_weights(c: Corpus) -> None:
    state = torch.load(c.folder / "w.pth", weights_only=True)
    state["features.0.weight"][0, 0, 0, 0] += 1
    torch.save(state, c.folder / "w.pth")


def _relink_style(c: Corpus) -> None:
    """style.png becomes a link to another picture: the same path, other pixels."""
    noise(seed=7).save(c.folder / "other.png")
    (c.folder / "style.png").unlink()
    (c.folder / "style.png").symlink_to("other.png")


def _kept_frame(damage: Callable[[Path], object]) -> Callable[[Corpus], Case]:
    """A one-frame video run made, its output removed (its frame kept to go on), then the kept
    frame damaged and the same command run again: the fix is to delete it, not to re-export it."""

    def build(c: Corpus) -> Case:
        make_clip(c.folder)
        argv = ["video", "clip.mp4", "style.png", "-o", "out.mp4", *VIDEO_RUN, "--frames", "1", "--iterations", "1"]
        assert main(argv) == 0
        (c.folder / "out.mp4").unlink()
        damage(c.folder / "out_frames" / "000001.png")
        needles = ("kept frame out_frames/000001.png is", "delete it and rerun, which makes that frame again")
        return Case(argv, needles, after_weights=True, absent=("re-export", "convert it"))

    return build


VIDEO_CASES: dict[str, Callable[[Corpus], Case]] = {
    # 1: the output (or its frames folder) is an input under any name, with or without --overwrite
    "V1-output-is-the-clip": _video(
        needles=("--output clip.mp4 is the input video clip.mp4", "destroy an input"),
        output="clip.mp4",
        absent=NO_OVERWRITE,
    ),
    "V1-output-is-the-clip-with-overwrite": _video(
        "--overwrite", needles=("--output clip.mp4 is the input video clip.mp4",), output="clip.mp4"
    ),
    "V1-output-is-the-style": _video(
        "--overwrite",
        needles=("--output s.gif is style image s.gif",),
        output="s.gif",
        styles=("s.gif",),
        prepare=lambda c: _picture_in(c, "s.gif"),
    ),
    "V1-output-is-the-second-style": _video(
        needles=("--output t.gif is style image t.gif",),
        output="t.gif",
        styles=("style.png", "t.gif"),
        prepare=lambda c: _picture_in(c, "t.gif"),
        absent=NO_OVERWRITE,
    ),
    "V1-output-symlinked-to-the-clip": _video(
        "--overwrite",
        needles=("--output alias.mp4 is the input video clip.mp4",),
        output="alias.mp4",
        prepare=lambda c: c.link("alias.mp4", "clip.mp4"),
    ),
    "V1-output-hard-linked-to-the-clip": _video(
        needles=("--output alias.mp4 is the input video clip.mp4",),
        output="alias.mp4",
        prepare=lambda c: os.link(c.folder / "clip.mp4", c.folder / "alias.mp4"),
        absent=NO_OVERWRITE,
    ),
    "V1-output-is-the-clip-spelled-otherwise": lambda c: _video(
        "--overwrite", needles=("is the input video clip.mp4",), output=_elsewhere(c, "clip.mp4")
    )(c),
    "V1-clip-spelled-otherwise-is-the-output": lambda c: _video(
        needles=("--output clip.mp4 is the input video ../",), output="clip.mp4", clip=_elsewhere(c, "clip.mp4")
    )(c),
    "V1-output-is-the-weights": _video(
        "--weights",
        "w.mp4",
        "--overwrite",
        needles=("--output w.mp4 is the weights file",),
        output="w.mp4",
        prepare=lambda c: c.write("w.mp4", "weights"),
    ),
    "V1-output-is-a-content-mask": _video(
        "--content-mask",
        "m.gif",
        needles=("--output m.gif is the content_mask m.gif",),
        output="m.gif",
        prepare=lambda c: _picture_in(c, "m.gif"),
        absent=NO_OVERWRITE,
    ),
    "V1-style-inside-the-frames-folder": _video(
        needles=("--output out_frames is the frames folder, which holds style image out_frames/000001.png",),
        styles=("out_frames/000001.png",),
        prepare=lambda c: _picture_in(c, "out_frames/000001.png"),
    ),
    "V1-clip-inside-the-frames-folder": _video(
        needles=("--output out_frames is the frames folder, which holds the input video out_frames/clip.mp4",),
        clip="out_frames/clip.mp4",
        prepare=lambda c: (c.mkdir("out_frames"), shutil.copy(c.folder / "clip.mp4", c.folder / "out_frames")),
    ),
    "V1-weights-inside-the-frames-folder": _video(
        "--weights",
        "out_frames/run.json",
        needles=("--output out_frames is the frames folder, which holds the weights",),
        prepare=lambda c: (c.mkdir("out_frames"), c.write("out_frames/run.json", "{}")),
    ),
    # 3 (video): a user's file or folder in the way
    "V3-output-exists": _video(
        needles=("--output out.mp4 already exists (the video)", "--overwrite"),
        prepare=lambda c: c.write("out.mp4", "mine"),
    ),
    "V3-output-is-a-folder": _video(
        "--overwrite", needles=("--output out.mp4 is a folder, not a file",), prepare=lambda c: c.mkdir("out.mp4")
    ),
    "V3-frames-folder-is-a-file": _video(
        needles=("--output out_frames is a file",), prepare=lambda c: c.write("out_frames", "mine")
    ),
    "V3-frames-folder-holds-a-users-files": _video(
        needles=("out_frames holds files that are not a video run's frames", "--output"),
        prepare=lambda c: (c.mkdir("out_frames"), c.write("out_frames/notes.txt", "mine")),
    ),
    # 4: kept frames whose inputs changed since, the options the same
    "V4-clip-edited-in-place": _stale(lambda c: make_clip(c.folder, pattern="testsrc2")),
    "V4-clip-edited-rerun-with-overwrite": lambda c: _with_overwrite(
        _stale(lambda c: make_clip(c.folder, pattern="testsrc2"))(c)
    ),
    "V4-style-edited-in-place": _stale(lambda c: noise(seed=5).save(c.folder / "style.png")),
    "V4-style-now-a-link-to-another-picture": _stale(_relink_style),
    "V4-content-mask-edited": _stale(
        lambda c: noise("L", seed=6).save(c.folder / "m.png"),
        "--content-mask",
        "m.png",
        prepare=lambda c: Image.new("L", (32, 24), 255).save(c.folder / "m.png"),
    ),
    "V4-weights-edited": _stale(_edit_weights, weights=True),
    # 12: a kept frame damaged since
    "V12-kept-frame-truncated": _kept_frame(lambda frame: frame.write_bytes(frame.read_bytes()[:100])),
    "V12-kept-frame-not-an-image": _kept_frame(lambda frame: frame.write_text("not a picture")),
    "V12-kept-frame-empty": _kept_frame(lambda frame: frame.write_bytes(b"")),
    "V12-start-past-the-end": _video(
        "--start", 100, needles=("clip.mp4 has no frames from --start 100 (it is shorter than that): lower --start",)
    ),
    "V12-clip-not-a-video": _video(
        needles=("Cannot read video", "give a video file ffmpeg can decode"),
        clip="notes.mp4",
        prepare=lambda c: c.write("notes.mp4", "just text"),
    ),
    # 11 (video): a folder that cannot be written
    "V11-read-only-folder": _video(
        needles=("read-only file system",), output="locked/out.mp4", prepare=_read_only_folder
    ),
}


def _with_overwrite(case: Case) -> Case:
    return Case([*case.argv, "--overwrite"], case.needles, absent=case.absent)


def _folders(c: Corpus, photos: int = 1) -> None:
    """photos/a.png (and more), styles/s.png."""
    (c.folder / "photos").mkdir()
    (c.folder / "styles").mkdir()
    shutil.copy(c.folder / "content.png", c.folder / "photos" / "a.png")
    for i in range(1, photos):
        noise(seed=10 + i).save(c.folder / "photos" / f"p{i:03d}.png")
    shutil.copy(c.folder / "style.png", c.folder / "styles" / "s.png")


def _batch(
    *flags: object,
    needles: tuple[str, ...],
    output: str = "out",
    prepare: Callable[[Corpus], object] = lambda c: None,
    absent: tuple[str, ...] = (),
    inputs: tuple[str, ...] = ("photos", "styles"),
    photos: int = 1,
) -> Callable[[Corpus], Case]:
    def build(c: Corpus) -> Case:
        _folders(c, photos)
        prepare(c)
        return Case(["batch", *inputs, "-o", output, *BATCH_RUN, *map(str, flags)], needles, absent=absent)

    return build


def _pairs_in(folder: str) -> Callable[[Corpus], object]:
    def make(c: Corpus) -> None:
        (c.folder / folder).mkdir(exist_ok=True)
        c.write(f"{folder}/jobs.csv", "content,style\n../photos/a.png,../styles/s.png\n")

    return make


BATCH_CASES: dict[str, Callable[[Corpus], Case]] = {
    # 1 (batch): an output that is an input, with or without --overwrite
    "B1-contact-sheet-is-a-photo": _batch(
        needles=("--output photos/index.jpg is photo photos/index.jpg", "destroy an input"),
        output="photos",
        prepare=lambda c: _picture_in(c, "photos/index.jpg"),
        absent=NO_OVERWRITE,
    ),
    "B1-contact-sheet-is-a-photo-with-overwrite": _batch(
        "--overwrite",
        needles=("--output photos/index.jpg is photo photos/index.jpg", "choose another --output folder"),
        output="photos",
        prepare=lambda c: _picture_in(c, "photos/index.jpg"),
    ),
    "B1-result-is-a-users-photo": _batch(
        "--overwrite",
        needles=("--output photos/a__s.png is photo photos/a__s.png",),
        output="photos",
        prepare=lambda c: _picture_in(c, "photos/a__s.png"),
    ),
    "B1-result-is-a-users-style": _batch(
        needles=("--output styles/a__s.png is style image styles/a__s.png",),
        output="styles",
        prepare=lambda c: _picture_in(c, "styles/a__s.png"),
        absent=NO_OVERWRITE,
    ),
    "B1-job-list-is-the-pairs-file": _batch(
        "--pairs",
        "out/jobs.csv",
        "--overwrite",
        needles=("--output out/jobs.csv is the pairs file out/jobs.csv",),
        inputs=(),
        prepare=_pairs_in("out"),
    ),
    "B1-job-list-hard-linked-to-the-pairs-file": _batch(
        "--pairs",
        "pairs/jobs.csv",
        needles=("--output out/jobs.csv is the pairs file pairs/jobs.csv",),
        inputs=(),
        absent=NO_OVERWRITE,
        prepare=lambda c: (
            _pairs_in("pairs")(c),
            c.mkdir("out"),
            os.link(c.folder / "pairs/jobs.csv", c.folder / "out/jobs.csv"),
        ),
    ),
    "B1-contact-sheet-is-the-weights": _batch(
        "--weights",
        "out/index.jpg",
        "--overwrite",
        needles=("--output out/index.jpg is the weights file",),
        prepare=lambda c: (c.mkdir("out"), c.write("out/index.jpg", "weights")),
    ),
    "B1-result-is-the-content-mask": _batch(
        "--content-mask",
        "out/a__s.png",
        "--overwrite",
        needles=("--output out/a__s.png is the content_mask out/a__s.png",),
        prepare=lambda c: _picture_in(c, "out/a__s.png"),
    ),
    "B1-contact-sheet-symlinked-to-a-photo": _batch(
        "--overwrite",
        needles=("--output out/index.jpg is photo photos/a.png",),
        prepare=lambda c: (c.mkdir("out"), c.link("out/index.jpg", "../photos/a.png")),
    ),
    "B1-output-folder-is-a-link-to-the-photo-folder": _batch(
        needles=("--output alias/index.jpg is photo photos/index.jpg",),
        output="alias",
        prepare=lambda c: (_picture_in(c, "photos/index.jpg"), c.link("alias", "photos")),
        absent=NO_OVERWRITE,
    ),
    "B1-output-folder-spelled-otherwise": _batch(
        needles=("is photo photos/index.jpg",),
        output="./photos/../photos",
        prepare=lambda c: _picture_in(c, "photos/index.jpg"),
        absent=NO_OVERWRITE,
    ),
    # 3: a user's file where the batch writes its summary, or a folder where a result goes
    "B3-users-contact-sheet": _batch(
        needles=("--output out/index.jpg already exists (the contact sheet)", "--overwrite"),
        prepare=lambda c: _picture_in(c, "out/index.jpg"),
    ),
    "B3-users-job-list": _batch(
        needles=("--output out/jobs.csv already exists (the job list)", "--overwrite"),
        prepare=lambda c: (c.mkdir("out"), c.write("out/jobs.csv", "my,own\n1,2\n")),
    ),
    "B3-users-second-contact-sheet": _batch(
        needles=("--output out/index-2.jpg already exists (the contact sheet)", "--overwrite"),
        prepare=lambda c: _picture_in(c, "out/index-2.jpg"),
        photos=101,
    ),
    "B3-result-name-is-a-folder": _batch(
        needles=("--output out/a__s.png is a folder, not a file: choose another --output folder",),
        prepare=lambda c: (c.mkdir("out"), c.mkdir("out/a__s.png")),
    ),
    # 12: a refusal says what to do
    "B12-pairs-row-lacks-a-style": _batch(
        "--pairs",
        "pairs.csv",
        needles=("--pairs pairs.csv: pair 1 lacks a content or a style path: give both on each row",),
        inputs=(),
        prepare=lambda c: c.write("pairs.csv", "content,style\nphotos/a.png,\n"),
    ),
    "B12-pairs-not-utf8": _batch(
        "--pairs",
        "pairs.csv",
        needles=("--pairs pairs.csv: not a UTF-8 CSV file", "save it as CSV in UTF-8"),
        inputs=(),
        prepare=lambda c: c.write("pairs.csv", b"content,style\n\xff\xfe.png,s.png\n"),
    ),
    "B12-ray-options-without-ray": _batch(
        "--workers", 2, needles=("--address and --workers are for --backend ray: add --backend ray, or leave them out",)
    ),
    # 11: an output folder that cannot be written, found before the first job
    "B11-read-only-output-folder": _batch(
        needles=("--output: Cannot write locked/a__s.png", "read-only file system"),
        output="locked",
        prepare=_read_only_folder,
    ),
    "B11-output-folder-is-a-file": _batch(
        needles=("cannot create the output folder photos/a.png",), output="photos/a.png"
    ),
}

IMAGE_CASES: dict[str, Callable[[Corpus], Case]] = {
    # the single-image command shares the pre-flight, and so its rule for an output folder
    "S1-content-inside-the-frames-folder": lambda c: Case(
        c.args("--save-every", 1, content=str(_picture_in(c, "out_frames/0001.png"))),
        ("--save-every out_frames is the frames folder, which holds the content image",),
    ),
}

APP_CASES = {**VIDEO_CASES, **BATCH_CASES, **IMAGE_CASES}
