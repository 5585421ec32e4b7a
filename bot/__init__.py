"""caseroom: a chat assistant for case management in integrated care."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("caseroom")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
