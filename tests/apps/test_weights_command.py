"""`impasto weights`: list, fetch, verify and path, as a user runs them, with the official
files served from this machine (or refused by a closed local port)."""

from __future__ import annotations

import hashlib
import io
import shutil
from pathlib import Path

import pytest
import torch
from local_weights import served, serving, unreachable

from impasto.apps.cli import main
from impasto.features.download import OFFLINE_VARIABLE
from impasto.features.registry import REGISTRY
from impasto.features.weights import sha256_file

VGG19_CONVS = (0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34)


def small_vgg19() -> bytes:
    """A stand-in VGG-19 file: its real keys, an eighth of its channels (so its shapes are its own)."""
    widths = [3, 8, 8, 16, 16, 32, 32, 32, 32, *[64] * 8]
    state = {}
    for index, (conv, (cin, cout)) in enumerate(zip(VGG19_CONVS, zip(widths, widths[1:]))):
        state[f"features.{conv}.weight"] = torch.randn(cout, cin, 3, 3, generator=torch.Generator().manual_seed(index))
        state[f"features.{conv}.bias"] = torch.zeros(cout)
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def misshapen_vgg19() -> dict[str, torch.Tensor]:
    """VGG-19's keys with one convolution that cannot follow the one before it."""
    state = torch.load(io.BytesIO(small_vgg19()), weights_only=True)
    state["features.2.weight"] = state["features.2.weight"][:, :7]
    return state


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("IMPASTO_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv(OFFLINE_VARIABLE, raising=False)
    for model in REGISTRY:
        unreachable(monkeypatch, model)
    return tmp_path / "cache"


def weights(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = main(["weights", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def test_list_says_what_is_built_in_and_where_vgg19_goes(capsys, cache: Path) -> None:
    for argv in ((), ("list",)):
        code, out, err = weights(capsys, *argv)
        lines = out.splitlines()
        assert (code, err, len(lines)) == (0, "", 3)
        assert lines[0].startswith("vgg19 ") and "VGG-19, the default: not present" in lines[0]
        assert "impasto weights fetch vgg19" in lines[0] and lines[0].endswith(str(cache / "vgg19-dcbb9e9d.pth"))
        assert lines[1].startswith("squeezenet1_1 ") and "SqueezeNet 1.1: built in (runs offline)" in lines[1]
        assert lines[2] == f"cache folder: {cache} (IMPASTO_CACHE sets another)"
    assert not cache.exists()  # listing writes nothing


def test_path_prints_the_cache_folder(capsys, cache: Path) -> None:
    assert weights(capsys, "path") == (0, f"{cache}\n", "")


def test_fetch_downloads_verifies_and_lists_it_as_cached(capsys, tmp_path: Path, monkeypatch, cache: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    data = small_vgg19()
    with serving(site) as base:
        url = served(monkeypatch, "vgg19", base, site, data)
        code, out, err = weights(capsys, "fetch", "vgg19")
    dest = cache / "vgg19-dcbb9e9d.pth"
    assert code == 0 and dest.read_bytes() == data and [p.name for p in cache.iterdir()] == [dest.name]
    assert err == f"impasto: fetching VGG-19 weights (548 MB) from {url}\n"
    assert out.startswith(f"VGG-19 weights: fetched to {dest} (sha256 verified); to run offline elsewhere, copy it")
    assert f"cached at {dest}" in weights(capsys, "list")[1].splitlines()[0]
    code, out, _ = weights(capsys, "fetch", "vgg19")  # offline now (nothing serves it): it is already there
    assert code == 0 and out.startswith(f"VGG-19 weights: already cached at {dest} (verified)")


def test_fetch_offline_is_one_line_and_leaves_nothing(capsys, cache: Path) -> None:
    code, out, err = weights(capsys, "fetch", "vgg19")
    last = err.splitlines()[-1]
    assert code == 1 and out == "" and len(err.splitlines()) == 2  # the "fetching" line, then the error
    assert last.startswith(f"impasto: error: cannot download VGG-19 weights from {REGISTRY['vgg19'].url} (")
    assert last.endswith(f"put it at {cache / 'vgg19-dcbb9e9d.pth'}")
    assert not cache.exists() or not any(cache.iterdir())


def test_fetch_refuses_a_wrong_file_in_the_cache(capsys, cache: Path) -> None:
    cache.mkdir()
    (cache / "vgg19-dcbb9e9d.pth").write_bytes(b"not it")
    code, _, err = weights(capsys, "fetch", "vgg19")
    assert code == 1 and "is not the official VGG-19 weights file" in err and "delete it and fetch again" in err


def test_verify_knows_the_built_in_file_and_finds_its_network(capsys, squeezenet_weights: Path, tmp_path) -> None:
    copy = shutil.copy(squeezenet_weights, tmp_path / "renamed.pth")
    code, out, err = weights(capsys, "verify", copy)
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"{copy}: SqueezeNet 1.1 weights, 50 feature tensors of the right shapes, all finite",
        f"sha256 {sha256_file(copy)}: impasto's built-in SqueezeNet 1.1 weights",
    ]


def test_verify_names_an_unknown_file_and_its_guessed_preprocessing(capsys, tmp_path) -> None:
    path = tmp_path / "mine.pth"
    path.write_bytes(small_vgg19())
    code, out, _ = weights(capsys, "verify", path, "--model", "vgg19")
    assert code == 0 and out.startswith(f"{path}: VGG-19 weights, 32 feature tensors")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert out.splitlines()[1] == (
        f"sha256 {digest}: not a file impasto knows (preprocessing: torchvision, from its name; --weights-format sets it)"
    )


@pytest.mark.parametrize(
    ("make", "flags", "needle"),
    [
        (lambda p: p.write_text("hello"), (), "is not a PyTorch file (it is text)"),
        (
            lambda p: torch.save({"x": torch.zeros(1)}, p),
            (),
            "has the feature weights of none of the networks (vgg19, squeezenet1_1)",
        ),
        (lambda p: p.write_bytes(small_vgg19()), ("--model", "squeezenet1_1"), "lacks 48 SqueezeNet 1.1 feature"),
        (lambda p: torch.save(misshapen_vgg19(), p), (), "'features.2.weight' has shape (8, 7, 3, 3), expected"),
    ],
)
def test_verify_errors_are_one_line(capsys, tmp_path, make, flags, needle) -> None:
    path = tmp_path / "w.pth"
    make(path)
    code, out, err = weights(capsys, "verify", path, *flags)
    assert code == 1 and out == "" and len(err.splitlines()) == 1
    assert err.startswith(f"impasto: error: weights file {path}") and needle in err


def test_usage_errors_exit_2(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["weights", "fetch", "alexnet"])
    assert info.value.code == 2 and "invalid choice: 'alexnet'" in capsys.readouterr().err
