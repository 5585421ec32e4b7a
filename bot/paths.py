"""Where the data folders (migrations, locales) are: beside the package in a source tree, in it in a wheel."""

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    bundled = _PACKAGE / "_data" / name
    if bundled.is_dir():
        return bundled
    return _PACKAGE.parent / name


def write_private(path: Path, data: bytes) -> None:
    """Write a new file readable by its owner only (exports hold personal data); an existing file is never
    overwritten (FileExistsError)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(data)
