"""The README is run, not just read: its Python example, its first commands and its links."""

import re
import shutil
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
MAX_LINES = 300


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", README, flags=re.MULTILINE | re.DOTALL)


def test_readme_is_a_short_guide() -> None:
    assert README.count("\n") <= MAX_LINES, f"README.md is over {MAX_LINES} lines: move details to docs/"


def test_first_block_is_set_up_then_tests() -> None:
    """The first code block holds exactly the two commands a new user runs, the tests last."""
    first = re.search(r"^```(\w*)\n(.*?)^```", README, flags=re.MULTILINE | re.DOTALL)
    assert first is not None and first.group(1) == "bash"
    commands = [line for line in first.group(2).splitlines() if line.strip() and not line.startswith("#")]
    assert len(commands) == 2
    assert "impasto examples/" in commands[0] and "--weights" not in commands[0]
    assert commands[1] == "python3 -m pytest -q"


def test_relative_links_resolve() -> None:
    """Links into the repository (docs pages, images, examples) point at files that exist."""
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README)
    local = [t for t in targets if "://" not in t]
    assert local, "the README links no pages"
    missing = [t for t in local if not (ROOT / t).exists()]
    assert not missing, f"README.md links missing files: {missing}"


@pytest.mark.slow
def test_python_example_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """The README's Python block, run from a copy of the repository root's examples/ folder."""
    (block,) = code_blocks("python")
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    exec(compile(block, "README.md", "exec"), {"__name__": "readme"})
    for name in ("tubingen_starry.png", "tubingen_mix.png"):
        with Image.open(tmp_path / name) as image:
            assert max(image.size) == 256
    reports = capsys.readouterr().out.splitlines()
    assert reports and all(re.fullmatch(r"scale \d of \d: loss [0-9.]+", line) for line in reports)
