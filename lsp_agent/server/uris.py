"""The one place URIs and paths meet: file:// URIs, percent-encoding, Windows drive letters."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath, PureWindowsPath
from urllib.parse import quote, unquote, urlparse

_DRIVE = re.compile(r"^/?([A-Za-z]):")


class NotAFileUri(ValueError):
    pass


def uri_to_path(uri: str, *, windows: bool | None = None) -> Path:
    """`file:///c%3A/x/a.py` -> `c:\\x\\a.py` on Windows; `file:///x/a%20b.py` -> `/x/a b.py`."""
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        raise NotAFileUri(f"not a file URI: {uri!r}")
    path = unquote(parsed.path)
    is_windows = _is_windows() if windows is None else windows
    if is_windows:
        if parsed.netloc:  # UNC: file://server/share/x
            return Path(str(PureWindowsPath(f"//{parsed.netloc}{path}")))
        if match := _DRIVE.match(path):
            path = f"{match.group(1).lower()}:{path[match.end() :]}"
        return Path(str(PureWindowsPath(path)))
    return Path(path)


def path_to_uri(path: Path | str, *, windows: bool | None = None) -> str:
    is_windows = _is_windows() if windows is None else windows
    text = str(path)
    if is_windows:
        pure = PureWindowsPath(text)
        posix = pure.as_posix()
        if pure.drive and not pure.drive.startswith("\\\\"):
            drive = pure.drive[0].lower()
            posix = f"/{drive}:{posix[len(pure.drive) :]}"
        return "file://" + quote(posix, safe="/:")
    return "file://" + quote(str(PurePosixPath(text)), safe="/")


def _is_windows() -> bool:
    import os

    return os.name == "nt"
