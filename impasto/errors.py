"""The one exception type that impasto shows to users as a plain one-line message."""

from __future__ import annotations


class ImpastoError(Exception):
    """A problem the user can fix: the message names what is wrong and what to do.

    `setting` names the setting (a `Settings` or `OutputOptions` field) the message is
    about, so that each app can show it its own way (the CLI as its `--flag`, the web page
    next to the field).
    """

    def __init__(self, message: str, setting: str | None = None) -> None:
        super().__init__(message)
        self.setting = setting
