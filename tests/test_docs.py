"""The option reference keeps up with `Settings`: every option and every choice is documented."""

import dataclasses
import re
from pathlib import Path

import pytest

from impasto.settings import Settings

OPTIONS_PAGE = Path(__file__).resolve().parents[1] / "docs" / "options.md"


@pytest.mark.parametrize("field", dataclasses.fields(Settings), ids=lambda f: f.name)
def test_every_option_and_choice_is_in_the_option_reference(field: dataclasses.Field) -> None:
    text = OPTIONS_PAGE.read_text(encoding="utf-8")
    flag = "--" + field.name.replace("_", "-")
    assert re.search(rf"`{flag}[ `\\|]", text), f"docs/options.md does not document {flag}"
    undocumented = [
        c for c in field.metadata.get("choices") or () if not re.search(rf"[`|\s]{re.escape(str(c))}[`\\|\s,]", text)
    ]
    assert not undocumented, f"docs/options.md does not name {flag}'s choices {undocumented}"
