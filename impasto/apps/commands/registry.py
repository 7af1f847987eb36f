"""The subcommands of `impasto`, in the order `impasto --help` lists them. A new one is a
`Command` in its own module, light to import, added here."""

from __future__ import annotations

from impasto.apps.commands.base import Command
from impasto.apps.commands.batch import BatchCommand
from impasto.apps.commands.serve import ServeCommand
from impasto.apps.commands.video import VideoCommand
from impasto.apps.commands.weights import WeightsCommand

SUBCOMMANDS: dict[str, Command] = {
    command.name: command for command in (ServeCommand(), BatchCommand(), VideoCommand(), WeightsCommand())
}
