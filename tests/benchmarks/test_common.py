"""The benchmarks' shared helpers: inputs, objectives to time and results files."""

import json

import pytest
import torch

from benchmarks.common import SHARED, require, table, write_results
from benchmarks.objectives import objective_at, seconds_per_evaluation
from impasto import Settings


def test_a_missing_input_says_where_such_files_come_from(tmp_path):
    missing = SHARED / "video" / "no-such-clip.mp4"
    with pytest.raises(SystemExit) as stopped:
        require(tmp_path, missing)
    message = str(stopped.value)
    assert str(missing) in message and "OpenCV" in message and "\n" not in message


@pytest.mark.parametrize("precision", [None, "fp32"])
def test_the_content_pixels_are_the_ones_the_objective_was_built_from(
    content_path, style_path, squeezenet_weights, precision
):
    settings = Settings(model="squeezenet1_1", weights=str(squeezenet_weights))
    objective, pixels = objective_at(settings, content_path, style_path, 64, precision, torch.device("cpu"))
    assert max(pixels.shape[-2:]) == 64
    with torch.no_grad():
        assert objective(pixels)["content"].item() < 1e-6
        assert objective(pixels.flip(-1))["content"].item() > 1e-3
    first, median = seconds_per_evaluation(objective, pixels, 2)
    assert first > 0 and median > 0


def test_results_are_written_whole_as_json_and_markdown(tmp_path):
    report = {"rows": [{"size": 64, "seconds": 0.5}]}
    write_results(tmp_path / "out" / "bench", report, "\n".join(table(["size", "seconds"], [[64, 0.5]], "rr")))
    assert json.loads((tmp_path / "out" / "bench.json").read_text()) == report
    assert (tmp_path / "out" / "bench.md").read_text() == "| size | seconds |\n|---:|---:|\n| 64 | 0.5 |\n"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["bench.json", "bench.md"]
