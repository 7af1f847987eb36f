"""`impasto serve` as a user runs it: where it listens, what it prints, where it keeps data,
and its one-line errors."""

import re
import socket
from pathlib import Path

import pytest

from impasto.apps.cli import main
from impasto.apps.web.config import default_data_folder


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def listening_addresses(port: int) -> list[str]:
    """The local addresses of the sockets listening on `port` (Linux /proc/net/tcp*)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.append(address)
    return found


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads listening sockets from Linux's /proc/net/tcp")
def test_serve_listens_on_loopback_only_and_prints_its_address(site):
    assert site.first_line == f"impasto: serving {site.url}  (data: {site.data}; Ctrl-C to stop)"
    assert listening_addresses(site.port) == ["0100007F"]  # 127.0.0.1, nothing else
    assert site.stop().endswith("impasto: interrupted\n")  # Ctrl-C: a quiet exit, 130
    assert site.process.returncode == 130


def test_serve_asks_for_a_token_beyond_loopback(monkeypatch, capsys, tmp_path, squeezenet_weights):
    from impasto.apps.web import serving

    bound = []
    monkeypatch.setattr(serving, "run", lambda app, sock, on_exit: bound.append(sock.getsockname()))
    port = free_port()
    data = tmp_path / "runs"
    monkeypatch.setenv("IMPASTO_OFFLINE", "1")  # VGG-19's weights are not asked for: the page starts with SqueezeNet
    monkeypatch.delenv("IMPASTO_TOKEN", raising=False)  # the token is generated
    argv = [
        "serve",
        "--model",
        "squeezenet1_1",
        "--host",
        "0.0.0.0",
        "--port",
        str(port),
        "--data",
        str(data),
        "--weights-squeezenet1_1",
        str(squeezenet_weights),
    ]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert err == (
        "impasto: listening on 0.0.0.0: only a browser given the token below gets in; beyond a trusted network, "
        "put a reverse proxy with TLS in front (see the web app's docs)\n"
    )
    token = re.fullmatch(rf"impasto: serving http://0\.0\.0\.0:{port}/\?token=([\w-]{{43}})  \(data: .*\n", out)[1]
    assert out == f"impasto: serving http://0.0.0.0:{port}/?token={token}  (data: {data}; Ctrl-C to stop)\n"
    assert bound == [("0.0.0.0", port)]  # the address was taken before the server ran


def test_serve_names_a_missing_weights_file(capsys, tmp_path):
    assert main(["serve", "--data", str(tmp_path), "--weights-vgg19", str(tmp_path / "vgg.pth")]) == 1
    assert (
        capsys.readouterr().err
        == f"impasto: error: weights file for vgg19 not found: {tmp_path / 'vgg.pth'}: check the path\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_serve_help_names_its_options(capsys):
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    text = capsys.readouterr().out
    for option in (
        "--host",
        "--port",
        "--data",
        "--model",
        "--weights",
        "--weights-vgg19",
        "--weights-squeezenet1_1",
        "--device",
        "--token",
        "--max-upload-mb",
        "--max-size",
    ):
        assert option in text


def test_data_folder_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_data_folder() == tmp_path / "xdg" / "impasto"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_data_folder() == tmp_path / ".local" / "share" / "impasto"
