"""`impasto video`'s work (its options are `impasto.apps.commands.video`'s): a video stylised
frame by frame with temporal consistency, resumable (finished frames are kept), with the
input's frame rate and audio."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from tqdm import tqdm

from impasto.apps.commands.backend import check_backend, check_weights
from impasto.apps.commands.options import settings_from
from impasto.apps.interrupts import as_interrupted
from impasto.apps.video.io import Clip, Cut, check_video_path, read_clip, write_video
from impasto.apps.video.store import FrameStore, frames_folder, input_checksums
from impasto.apps.video.stylize import Consistency, FrameDone, stylize_frames
from impasto.defaults import resolve
from impasto.engine import Stylizer
from impasto.engine.preflight import settings_reads
from impasto.image.io import read_image
from impasto.planned import Planned, check_outputs
from impasto.record.progress import DownloadBar
from impasto.settings import Settings


def _check_outputs(args: argparse.Namespace, settings: Settings, output: Path) -> None:
    """The shared pre-flight: the video and its frames folder replace no input (the clip, a
    style, a mask, the weights), and no other file unless --overwrite; the frames folder is
    this run's own, kept to resume (`FrameStore` checks it is)."""
    planned = [
        Planned(output, "output", "the video"),
        Planned(frames_folder(output), "output", "the frames folder", folder=True, kept=True),
    ]
    inputs = {f"the input video {args.video}": Path(args.video), **{f"style image {s}": Path(s) for s in args.style}}
    check_outputs(planned, {**inputs, **settings_reads(settings)}, args.overwrite)


def _describe(settings: Settings, consistency: Consistency, cut: Cut, checksums: dict[str, Any]) -> dict[str, Any]:
    """What makes a run's frames what they are: kept with them, compared on a rerun. The
    inputs count by content (`checksums`), not by name, so an edited clip, style, mask or
    weights file never passes for the one the frames were made from, and a moved one does."""
    return {
        "settings": settings.to_dict(),
        "consistency": dataclasses.asdict(consistency),
        "cut": dataclasses.asdict(cut),
        "inputs": checksums,
    }


def _input_names(args: argparse.Namespace, settings: Settings) -> dict[str, str]:
    """The inputs of `input_checksums`, by key, as messages name them."""
    names = {"video": f"the input video {args.video}", "weights": f"the weights file {settings.weights}"}
    names.update({f"style {i + 1}": f"style image {s}" for i, s in enumerate(args.style)})
    for setting in ("content_mask", "style_mask"):
        names.update(
            {
                f"{setting} {i + 1}": f"--{setting.replace('_', '-')} {m}"
                for i, m in enumerate(getattr(settings, setting) or ())
            }
        )
    return names


def _progress(bar: tqdm) -> Any:
    def update(done: FrameDone) -> None:
        bar.set_postfix_str("kept from before" if done.reused else f"{done.seconds:.1f} s/frame")
        bar.update()

    return update


def run(args: argparse.Namespace) -> int:
    """Stylises the clip, keeping each finished frame, and writes the video."""
    check_backend(args)
    settings = settings_from(args)
    output = check_video_path(args.output or f"{Path(args.video).stem}_{Path(args.style[0]).stem}.mp4")
    consistency = Consistency(args.mode, args.temporal_weight, args.frame_iterations, args.long_term)
    cut = Cut(args.start, args.frames, args.every)
    resolve(settings)  # settings errors before the video is decoded
    _check_outputs(args, settings, output)
    check_weights(settings, args)
    local = args.backend == "local"  # Ray's workers load the network, each for itself
    if not local:
        from impasto.apps.ray_pool.cluster import import_ray

        import_ray()  # a missing Ray is one line before the video is decoded
    styles = [read_image(path, "style image") for path in args.style]
    clip = read_clip(args.video, settings.size, cut)
    settings = dataclasses.replace(settings, size=max(clip.size))  # even sides for H.264 may move it by a pixel
    checksums = input_checksums(clip.digest, [s.sha256 for s in styles], settings)
    described = _describe(resolve(settings), consistency, cut, checksums)
    store = FrameStore(frames_folder(output), described, _input_names(args, settings))
    store.check()  # kept frames of other inputs or options stop the run before the network is built
    stylizer = Stylizer(settings, download_progress=None if args.quiet else DownloadBar()) if local else None
    store.open()
    with tqdm(total=len(clip.frames), unit="frame", disable=args.quiet, file=sys.stderr) as bar:
        try:
            images = [s.image for s in styles]
            results = _stylize(args, stylizer or settings, clip, images, store, consistency, _progress(bar))
        except KeyboardInterrupt as error:
            kept = sum(1 for _ in store.folder.glob("[0-9]*.png"))
            message = f"interrupted: {kept} of {len(clip.frames)} frames kept in {store.folder}"
            raise as_interrupted(error).with_message(f"{message}; run the same command to go on") from None
    write_video(results, output, clip)
    if not args.quiet:
        print(f"wrote {output}: {len(results)} frames at {clip.fps:g} fps (frames in {store.folder})", file=sys.stderr)
    return 0


def _stylize(
    args: argparse.Namespace,
    engine: Stylizer | Settings,
    clip: Clip,
    styles: list[Image.Image],
    store: FrameStore,
    consistency: Consistency,
    on_frame: Callable[[FrameDone], None],
) -> list[np.ndarray]:
    """Every frame of the clip: from this machine's Stylizer, or from Ray workers, one shot
    each, when given the settings to start them with."""
    if isinstance(engine, Stylizer):
        return stylize_frames(engine, clip, styles, store, consistency, on_frame=on_frame)
    from impasto.apps.ray_pool import StylizerPool
    from impasto.apps.video.remote import stylize_shots_on_ray

    with StylizerPool(engine, workers=args.workers, address=args.address) as pool:
        return stylize_shots_on_ray(pool, clip, styles, store, consistency, on_frame=on_frame)
