"""`impasto batch`: names, resuming, bad inputs and the summary, on 2 photos x 2 styles at 64 px."""

import contextlib
import csv
import io
from pathlib import Path

import numpy as np
import pytest
from conftest import IMAGES
from PIL import Image

from impasto.apps.batch.names import MAX_LABEL_BYTES, labels, output_names
from impasto.apps.cli import main
from impasto.features.weights import sha256_file
from impasto.record.provenance import read_record

OUTPUTS = {"a.jpg__scream.png", "a.jpg__starry.png", "a.png__scream.png", "a.png__starry.png"}


def run_flags(weights: Path) -> list:
    """The settings of every batch run here: the real SqueezeNet weights at 64 px, 4 iterations."""
    return ["--model", "squeezenet1_1", "--weights", weights, "--size", "64", "--iterations", "4"]


def picture(name: str, path: Path, size: int = 80) -> Path:
    """An example image shrunk to `size` px and saved at `path` (its format from the suffix)."""
    image = Image.open(IMAGES / name).convert("RGB")
    image.thumbnail((size, size))
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path


def make_inputs(root: Path) -> tuple[Path, Path]:
    """photos/a.jpg and photos/a.png (same stem, different photos), a corrupt photo, and two styles."""
    picture("tubingen.jpg", root / "photos" / "a.jpg")
    picture("shipwreck.jpg", root / "photos" / "a.png")
    (root / "photos" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not a JPEG")
    (root / "photos" / "notes.txt").write_text("not an image, not a job")
    picture("starry_night.jpg", root / "styles" / "starry.jpg")
    picture("the_scream.jpg", root / "styles" / "scream.jpg")
    return root / "photos", root / "styles"


def batch(capsys, *argv) -> tuple[int, str]:
    code = main(["batch", *map(str, argv)])
    return code, capsys.readouterr().err


def jobs_csv(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "jobs.csv", newline="") as file:
        return {row["output"]: row for row in csv.DictReader(file)}


@pytest.fixture(scope="module")
def first_run(tmp_path_factory, squeezenet_weights):
    """The batch run once: 3 photos (one corrupt) x 2 styles; its exit code, stderr and folders."""
    root = tmp_path_factory.mktemp("batch")
    photos, styles = make_inputs(root)
    err = io.StringIO()  # capsys is function-scoped
    with contextlib.redirect_stderr(err):
        code = main(["batch", *map(str, (photos, styles, "-o", root / "out", *run_flags(squeezenet_weights)))])
    return code, err.getvalue(), photos, styles, root / "out"


def test_every_photo_with_every_style_under_distinct_names(first_run):
    code, err, photos, styles, out = first_run
    assert OUTPUTS <= {p.name for p in out.iterdir()}
    for name in OUTPUTS:
        record = read_record(out / name)
        content, style = name[:-4].split("__")
        assert record["content"]["sha256"] == sha256_file(photos / content)
        assert Path(record["styles"][0]["path"]).name == f"{style}.jpg"
        with Image.open(out / name) as image:
            assert max(image.size) == 64
    pixels = {name: np.asarray(Image.open(out / name), dtype=np.int16) for name in OUTPUTS}
    assert not np.array_equal(pixels["a.jpg__scream.png"], pixels["a.jpg__starry.png"])  # each job its own style
    assert not np.array_equal(pixels["a.jpg__starry.png"], pixels["a.png__starry.png"])  # and its own photo


def test_corrupt_photo_is_reported_and_the_rest_done(first_run):
    code, err, photos, styles, out = first_run
    assert code == 1
    rows = jobs_csv(out)
    assert {rows[name]["status"] for name in OUTPUTS} == {"done"}
    broken = [row for row in rows.values() if row["content"].endswith("broken.jpg")]
    assert len(broken) == 2 and {row["status"] for row in broken} == {"failed"}
    assert all("broken.jpg" in row["error"] for row in broken)
    assert "2 failed" in err and err.count("failed broken__") >= 2 and "Traceback" not in err
    assert not (out / "broken__scream.png").exists()


def test_summary_lists_losses_and_shows_every_job(first_run):
    code, err, photos, styles, out = first_run
    rows = jobs_csv(out)
    assert len(rows) == 6
    for name in OUTPUTS:
        assert float(rows[name]["seconds"]) > 0
        assert float(rows[name]["total_loss"]) == pytest.approx(
            float(rows[name]["content_loss"]) + float(rows[name]["style_loss"]) + float(rows[name]["tv_loss"]), rel=1e-4
        )
    with Image.open(out / "index.jpg") as sheet:
        assert sheet.format == "JPEG"
        assert sheet.height >= 6 * 128 and sheet.width >= 3 * 128


def test_finished_jobs_are_skipped_and_overwrite_redoes_them(first_run, capsys, squeezenet_weights):
    code, err, photos, styles, out = first_run
    before = {name: (out / name).read_bytes() for name in OUTPUTS}
    picture("the_scream.jpg", photos / "a.png")  # a new photo under the old name: its jobs are redone
    code, err = batch(capsys, photos, styles, "-o", out, *run_flags(squeezenet_weights))
    assert code == 1  # the corrupt photo still fails
    rows = jobs_csv(out)
    redone = {"a.png__scream.png", "a.png__starry.png"}
    assert {rows[name]["status"] for name in redone} == {"done"}
    assert read_record(out / "a.png__scream.png")["content"]["sha256"] == sha256_file(photos / "a.png")
    for name in OUTPUTS - redone:
        assert rows[name]["status"] == "skipped" and rows[name]["total_loss"]
        assert (out / name).read_bytes() == before[name]
    (photos / "broken.jpg").unlink()
    code, err = batch(capsys, photos, styles, "-o", out, *run_flags(squeezenet_weights), "--overwrite", "-q")
    assert code == 0 and err == ""
    assert {row["status"] for row in jobs_csv(out).values()} == {"done"}


def test_results_of_other_settings_stop_the_batch_before_any_work(first_run, capsys, squeezenet_weights):
    code, err, photos, styles, out = first_run
    before = {name: (out / name).read_bytes() for name in OUTPUTS}
    code, err = batch(capsys, photos, styles, "-o", out, *run_flags(squeezenet_weights), "--style-weight", "7")
    assert code == 1
    assert (
        err.strip().splitlines()[-1].startswith("impasto: error: ") and "--style-weight" in err and "--overwrite" in err
    )
    assert {name: (out / name).read_bytes() for name in OUTPUTS} == before


def test_pairs_csv_runs_only_its_pairs(tmp_path, capsys, squeezenet_weights):
    photos, styles = make_inputs(tmp_path)
    (tmp_path / "pairs.csv").write_text(
        "content,style\nphotos/a.jpg,styles/starry.jpg\nphotos/a.jpg,styles/starry.jpg\n"
    )
    code, err = batch(capsys, "--pairs", tmp_path / "pairs.csv", "-o", tmp_path / "out", *run_flags(squeezenet_weights))
    assert code == 0, err
    assert list(jobs_csv(tmp_path / "out")) == ["a__starry.png"]


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["{root}/photos", "{root}/nothing", "-o", "{root}/out"], "does not exist"),
        (["{root}/photos", "{root}/empty", "-o", "{root}/out"], "holds no images"),
        (["--pairs", "{root}/bad.csv", "-o", "{root}/out"], "columns content,style"),
        (["{root}/photos", "{root}/photos", "--pairs", "{root}/bad.csv", "-o", "{root}/out"], "not both"),
        (["{root}/photos", "{root}/photos", "-o", "{root}/out", "--workers", "2"], "--backend ray"),
    ],
)
def test_bad_batch_is_one_line(tmp_path, capsys, argv, needle):
    (tmp_path / "photos").mkdir()
    (tmp_path / "empty").mkdir()
    picture("tubingen.jpg", tmp_path / "photos" / "a.jpg")
    (tmp_path / "bad.csv").write_text("photo,artwork\na.jpg,b.jpg\n")
    code, err = batch(capsys, *(a.format(root=tmp_path) for a in argv), "--weights", "random")
    assert code == 1 and err.startswith("impasto: error: ") and needle in err and len(err.strip().splitlines()) == 1


def test_names_never_collide():
    paths = [Path("x/a.jpg"), Path("x/a.png"), Path("y/a.jpg"), Path("x/B.jpg"), Path("x/b.jpg"), Path("x/c.jpg")]
    named = labels(paths)
    assert named[Path("x/c.jpg")] == "c" and named[Path("x/a.png")] == "a.png"
    assert len({label.casefold() for label in named.values()}) == len(paths)
    tricky = [(Path("a__b.jpg"), Path("c.jpg")), (Path("a.jpg"), Path("b__c.jpg"))]
    assert len(set(output_names(tricky))) == 2


def test_long_names_are_shortened_and_stay_distinct():
    long = [Path("é" * 200 + "1.jpg"), Path("é" * 200 + "2.jpg")]
    names = output_names([(long[0], Path("s.jpg")), (long[1], Path("s.jpg"))])
    assert len(set(names)) == 2
    assert all(len(name.encode()) <= 2 * MAX_LABEL_BYTES + 10 for name in names)
