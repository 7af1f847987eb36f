"""Every command, the single-image one and each subcommand, ends the same way: a usage error,
a user error, an impasto bug and Ctrl-C each end in one line and an exit code, with the
traceback only under --debug; and the command line starts without PyTorch."""

import os
import signal
import subprocess
import sys

import pytest

from impasto.apps.cli import main
from impasto.apps.commands.registry import SUBCOMMANDS
from impasto.apps.commands.stylize import StylizeCommand
from impasto.apps.commands.weights import WeightsCommand
from impasto.errors import ImpastoError, Interrupted

USAGE_ERRORS = {
    "": (["c.jpg", "s.jpg", "--size", "big"], "argument --size: invalid int value: 'big'"),
    "serve": (["--port", "http"], "argument --port: invalid int value: 'http'"),
    "batch": (["photos", "styles"], "the following arguments are required: -o/--output"),
    "video": (["clip.mp4"], "the following arguments are required: style"),
    "weights": (["list", "--all"], "unrecognized arguments: --all"),
    "weights verify": ([], "the following arguments are required: FILE"),
}


def test_every_subcommand_has_a_usage_error_case():
    assert {name.split()[0] for name in USAGE_ERRORS if name} == set(SUBCOMMANDS)


@pytest.mark.parametrize("name", USAGE_ERRORS, ids=lambda name: name or "impasto")
def test_a_usage_error_is_one_line_naming_the_help(capsys, name):
    argv, message = USAGE_ERRORS[name]
    prog = f"impasto {name}".strip()
    with pytest.raises(SystemExit) as exit_:
        main([*name.split(), *argv])
    assert exit_.value.code == 2
    assert capsys.readouterr().err == f"{prog}: error: {message} (see {prog} --help)\n"


@pytest.mark.parametrize(
    ("command", "switches"),
    [
        (StylizeCommand(), {"--overwrite", "--quiet", "--debug"}),
        (SUBCOMMANDS["serve"], {"--debug"}),
        (SUBCOMMANDS["batch"], {"--overwrite", "--quiet", "--debug"}),
        (SUBCOMMANDS["video"], {"--overwrite", "--quiet", "--debug"}),
        (SUBCOMMANDS["weights"], {"--debug"}),
    ],
    ids=lambda value: getattr(value, "prog", ""),
)
def test_each_command_takes_the_shared_switches_it_declares(command, switches):
    """--overwrite where it writes files, --quiet where it prints progress, --debug everywhere."""
    help = command.parser().format_help()
    assert {switch for switch in ("--overwrite", "--quiet", "--debug") if switch in help} == switches


def failing(error: BaseException):
    def run(self, args):
        raise error

    return run


@pytest.mark.parametrize(
    ("error", "line", "code"),
    [
        (ImpastoError("size must be at least 1", setting="size"), "impasto: error: --size must be at least 1", 1),
        (MemoryError(), "impasto: error: the machine ran out of memory: lower --size or set --max-memory", 1),
        (ValueError("bug"), "impasto: internal error: ValueError('bug') (rerun with --debug for the traceback)", 1),
        (KeyboardInterrupt(), "impasto: interrupted", 130),
        (Interrupted(signal.SIGTERM, "interrupted at iteration 3/9: saved o.png"), "impasto: interrupted at iteration 3/9: saved o.png", 143),
    ],
    ids=["user error", "out of memory", "bug", "Ctrl-C", "SIGTERM"],
)  # fmt: skip
def test_every_ending_is_one_line_and_an_exit_code(capsys, monkeypatch, error, line, code):
    monkeypatch.setattr(WeightsCommand, "run", failing(error))
    assert main(["weights", "path"]) == code
    assert capsys.readouterr().err == line + "\n"


@pytest.mark.parametrize("argv", [["weights", "--debug", "path"], ["weights", "path", "--debug"]])
def test_debug_shows_the_traceback_wherever_it_is_given(capsys, monkeypatch, argv):
    monkeypatch.setattr(WeightsCommand, "run", failing(ImpastoError("a problem")))
    with pytest.raises(ImpastoError, match="a problem"):
        main(argv)
    monkeypatch.setattr(WeightsCommand, "run", failing(ValueError("bug")))
    with pytest.raises(ValueError, match="bug"):
        main(argv)
    monkeypatch.setattr(WeightsCommand, "run", failing(KeyboardInterrupt()))
    assert main(argv) == 130 and capsys.readouterr().err == "impasto: interrupted\n"  # not a traceback


def test_ctrl_c_during_start_up_waits_for_its_end_then_exits(capsys, monkeypatch):
    """A Ctrl-C while the command is chosen and its options are parsed (imports included) is held
    until they are done, then ends the command before its run, in one line."""
    steps = []
    add_arguments = WeightsCommand.add_arguments

    def interrupted_while_parsing(self, parser):
        os.kill(os.getpid(), signal.SIGINT)
        steps.append("parsed on")
        add_arguments(self, parser)

    monkeypatch.setattr(WeightsCommand, "add_arguments", interrupted_while_parsing)
    monkeypatch.setattr(WeightsCommand, "run", lambda self, args: steps.append("ran") or 0)
    assert main(["weights", "path"]) == 130
    assert steps == ["parsed on"] and capsys.readouterr().err == "impasto: interrupted\n"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored


def test_a_photo_named_like_a_subcommand_is_a_photo(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "video").write_bytes(b"not an image")
    monkeypatch.setattr(StylizeCommand, "run", lambda self, args: print(args.content, args.style) or 0)
    assert main(["video", "style.jpg"]) == 0
    assert capsys.readouterr().out == "video ['style.jpg']\n"


def test_help_imports_no_pytorch_nor_any_server():
    script = (
        "import sys\nfrom impasto.apps.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "import impasto.apps.commands.registry\n"
        "print(' '.join(m for m in ('torch', 'starlette', 'uvicorn', 'ray') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "usage: impasto" in done.stdout and done.stdout.splitlines()[-1] == ""
