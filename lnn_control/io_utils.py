"""Small shared file helpers: atomic writes, content hashes and safe path components.

No pickle anywhere. Labels that become file or folder names (policy and condition labels, run
names) go through `check_label`; writes under an output directory can pass `root=` so that a
path resolving outside it is refused before anything is written.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

FILE_MODE = 0o644
LABEL_MAX_CHARS = 100
"""Longest label accepted as one path component (file systems allow 255 bytes per name)."""
_LABEL_PATTERN = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*")
LABEL_RULE = (
    f"allowed: 1-{LABEL_MAX_CHARS} letters, digits, '_', '.' or '-', "
    "not starting with '.' and without '..'"
)


def check_label(label: object, what: str) -> str:
    """`label` if it is safe as one file or folder name; else a one-line ValueError naming
    `what` (e.g. "policy label"), the label and `LABEL_RULE`."""
    text = label if isinstance(label, str) else ""
    if not (
        0 < len(text) <= LABEL_MAX_CHARS and _LABEL_PATTERN.fullmatch(text) and ".." not in text
    ):
        raise ValueError(f"{what} {label!r} cannot be a file name; {LABEL_RULE}")
    return text


def check_inside(path: str | Path, root: str | Path) -> Path:
    """`path`, or a one-line ValueError when it resolves (symlinks and `..` followed) outside
    the directory `root`."""
    path = Path(path)
    if not path.resolve().is_relative_to(Path(root).resolve()):
        raise ValueError(f"{path} resolves outside the output directory {root}; refused")
    return path


def path_inside(root: str | Path, *parts: str) -> Path:
    """`root/parts[0]/parts[1]/...`, checked by `check_inside`."""
    return check_inside(Path(root).joinpath(*parts), root)


def atomic_write_bytes(path: str | Path, data: bytes, *, root: str | Path | None = None) -> Path:
    """Write `data` to `path` atomically: a temp file in the same folder, fsync, then rename.

    A crash leaves either the old file or the new one, never a torn one. With `root`, a `path`
    that resolves outside `root` is refused (ValueError) before anything is created.
    """
    path = Path(path) if root is None else check_inside(path, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, FILE_MODE)  # mkstemp creates 0600; checkpoints and reports are shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_json(path: str | Path, payload: Any, *, root: str | Path | None = None) -> Path:
    """`payload` as indented JSON, written atomically (`root`: see `atomic_write_bytes`)."""
    text = json.dumps(payload, indent=2, sort_keys=True) + "\n"
    return atomic_write_bytes(path, text.encode(), root=root)


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of `data`."""
    return hashlib.sha256(data).hexdigest()


def read_json(path: str | Path, what: str) -> dict[str, Any]:
    """Load a JSON object; one-line ValueError naming `what` and the file when it is not one."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} not found: {path}")
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(
            f"{what} {path} is not valid JSON ({err.msg if hasattr(err, 'msg') else err})"
        ) from None
    if not isinstance(data, dict):
        raise ValueError(f"{what} {path} must hold a JSON object, got {type(data).__name__}")
    return data


def replace_marked_section(path: str | Path, start: str, end: str, body: str) -> Path:
    """Replace the text between the marker lines `start` and `end` in a text file (markers
    included, so the section can be regenerated); append it if the markers are absent."""
    path = Path(path)
    section = f"{start}\n{body.rstrip()}\n{end}"
    text = path.read_text() if path.exists() else ""
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text)
    return path
