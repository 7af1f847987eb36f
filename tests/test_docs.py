"""The option reference keeps up with `Settings` and the registries: every option and every choice is
documented, each optimiser and loss kind with its registry description and defaults, and the README's
option table names every choice of the options it lists."""

import dataclasses
import re
from pathlib import Path

import pytest

from impasto.losses.kinds import CONTENT_LOSSES, STYLE_LOSSES
from impasto.optim.optimizers import OPTIMIZERS
from impasto.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
OPTIONS_PAGE = ROOT / "docs" / "options.md"
FIELDS = {f.name: f for f in dataclasses.fields(Settings)}


def registry_rows() -> list[str]:
    """The option reference's table row of each optimiser and loss kind, as its registry has it."""
    optimizers = [
        f"| `{o.name}` | {o.description} | {o.default_lr:g} | {', '.join(o.parameterizations)} |"
        for o in OPTIMIZERS.values()
    ]
    style = [f"| `{k.name}` | {k.description} | {_one_scale(k.one_scale_weight)} |" for k in STYLE_LOSSES.values()]
    content = [f"| `{k.name}` | {k.description} |" for k in CONTENT_LOSSES.values()]
    return [*optimizers, *style, *content]


def _one_scale(weight: float | None) -> str:
    return "the network's" if weight is None else f"{weight:g}"


@pytest.mark.parametrize("field", dataclasses.fields(Settings), ids=lambda f: f.name)
def test_every_option_and_choice_is_in_the_option_reference(field: dataclasses.Field) -> None:
    text = OPTIONS_PAGE.read_text(encoding="utf-8")
    flag = "--" + field.name.replace("_", "-")
    assert re.search(rf"`{flag}[ `\\|]", text), f"docs/options.md does not document {flag}"
    undocumented = [
        c for c in field.metadata.get("choices") or () if not re.search(rf"[`|\s]{re.escape(str(c))}[`\\|\s,]", text)
    ]
    assert not undocumented, f"docs/options.md does not name {flag}'s choices {undocumented}"


@pytest.mark.parametrize("row", registry_rows(), ids=lambda row: row.split("`")[1])
def test_every_optimiser_and_loss_kind_is_in_the_option_reference_as_its_registry_describes_it(row: str) -> None:
    lines = OPTIONS_PAGE.read_text(encoding="utf-8").splitlines()
    assert row in lines, f"docs/options.md lacks the row {row!r}: copy it from the registry"


def test_the_readme_option_table_names_every_choice_of_the_options_it_lists() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    listed = {
        flag.replace("-", "_"): row
        for row in readme
        if row.startswith("| `--")
        for flag in re.findall(r"`--([a-z-]+)", row.split(" | ")[0])
    }
    assert {"optimizer", "style_loss"} <= set(listed), "the README's option table lacks --optimizer or --style-loss"
    for name, row in listed.items():
        words = set(re.split(r"[^\w.-]+", row))
        choices = FIELDS[name].metadata.get("choices") or () if name in FIELDS else ()
        missing = [c for c in choices if c not in words]
        assert not missing, f"README.md's row for --{name.replace('_', '-')} does not name {missing}"


def test_the_api_pages_callback_example_resumes_bit_for_bit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Python API page's callback example runs as written, its own assertion included."""
    page = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```python\n(.*?)^```", page, flags=re.MULTILINE | re.DOTALL)
    (example,) = [block for block in blocks if "class Keep(Callback)" in block]
    monkeypatch.chdir(ROOT)
    exec(compile(example, "docs/api.md", "exec"), {"__name__": "api_example"})
