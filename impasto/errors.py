"""The exceptions impasto shows to users as one line: a problem they can fix, and an interruption."""

from __future__ import annotations

import signal


class ImpastoError(Exception):
    """A problem the user can fix: the message names what is wrong and what to do.

    `setting` names the setting (a `Settings` or `OutputOptions` field) the message is
    about, so that each app can show it its own way (the CLI as its `--flag`, the web page
    next to the field).
    """

    def __init__(self, message: str, setting: str | None = None) -> None:
        super().__init__(message)
        self.setting = setting


class Interrupted(KeyboardInterrupt):
    """The run was stopped by a signal; `exit_code` is 128 + its number (130 for Ctrl-C)."""

    def __init__(self, signum: int = signal.SIGINT, message: str = "interrupted") -> None:
        super().__init__(message)
        self.signum = signum
        self.message = message

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    def with_message(self, message: str) -> Interrupted:
        return Interrupted(self.signum, message)
