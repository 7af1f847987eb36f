"""`impasto video CLIP STYLE... -o OUT.mp4`: a video clip stylised frame by frame, without
flicker (`impasto.apps.video`)."""

from __future__ import annotations

import argparse

from impasto.apps.commands.backend import backend_arguments
from impasto.apps.commands.base import Command
from impasto.apps.commands.options import settings_arguments


class VideoCommand(Command):
    """Stylises a clip, resumably (finished frames are kept), with its frame rate and audio."""

    name = "video"
    summary = "a video clip, frame by frame, without flicker"
    description = (
        "Stylise a video: every frame repainted in the style's manner, steady from frame to frame "
        "(optical flow warm start and temporal loss, Ruder et al. 2016). Finished frames are kept in "
        "OUTPUT_frames/, so an interrupted run goes on where it stopped when run again."
    )
    shared = {
        "overwrite": "replace the output video if it exists (never one of the inputs)",
        "quiet": "print no progress and no messages but errors",
    }

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("video", help="the input video (any file ffmpeg reads)")
        parser.add_argument("style", nargs="+", help="the style image(s)")
        parser.add_argument(
            "-o",
            "--output",
            help="output video: .mp4 (H.264, the input's audio copied) or .gif (default: VIDEO_STYLE.mp4)",
        )
        frames = parser.add_argument_group("frames")
        frames.add_argument(
            "--start", type=int, default=0, metavar="N", help="first frame, counted from 0 (default: 0)"
        )
        frames.add_argument("--frames", type=int, metavar="N", help="number of frames to stylise (default: to the end)")
        frames.add_argument(
            "--every", type=int, default=1, metavar="K",
            help="use every K-th frame; the frame rate is divided by K, so the video lasts as long (default: 1)",
        )  # fmt: skip
        steady_arguments(parser)
        backend_arguments(parser, "shots (the parts between scene cuts, each started afresh)")
        settings_arguments(parser)

    def run(self, args: argparse.Namespace) -> int:
        from impasto.apps.video import command as video

        return video.run(args)


def steady_arguments(parser: argparse.ArgumentParser) -> None:
    """How each frame is held to the ones before it."""
    from impasto.apps.video.stylize import FRAME_ITERATIONS, MODES, TEMPORAL_WEIGHT

    steady = parser.add_argument_group("temporal consistency")
    steady.add_argument(
        "--mode", choices=MODES, default="temporal",
        help="temporal: warm start and temporal loss; warm: warm start only; independent: each frame "
        "as a still image (flickers) (default: temporal)",
    )  # fmt: skip
    steady.add_argument(
        "--temporal-weight", type=float, default=TEMPORAL_WEIGHT, metavar="W",
        help="weight of the temporal loss, relative to the frame's content and style loss; higher holds "
        f"each frame closer to the last (default: {TEMPORAL_WEIGHT:g})",
    )  # fmt: skip
    steady.add_argument(
        "--frame-iterations", type=int, default=FRAME_ITERATIONS, metavar="N",
        help=f"iterations per frame after the first, which runs --iterations (default: {FRAME_ITERATIONS})",
    )  # fmt: skip
    steady.add_argument(
        "--long-term", type=int, default=1, metavar="K",
        help="tie each frame to the last K results, each pixel to the nearest one it was seen in (default: 1)",
    )  # fmt: skip
