"""The one exception type that impasto shows to users as a plain one-line message."""


class ImpastoError(Exception):
    """A problem the user can fix: the message names what is wrong and what to do."""
