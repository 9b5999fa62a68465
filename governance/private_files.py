"""Modes of the files that hold residents' data, set explicitly whatever the umask.

Files we write (the database, a restored database, backups, uploads, the
accounts file) are 0600; folders we own (`backups/`, `uploads/` and their
session folders) are 0700. The folder holding the database is made 0700 when
we create it (or it is the default `data/`); a folder someone pointed us at
(`--db /srv/governance/district.duckdb`) keeps the mode its owner gave it:
changing it could lock out a backup agent or another service that was meant
to read there. We only log when such a folder is open to others.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger("governance.files")

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_file(path: str | Path) -> None:
    """Make `path` 0600 if it exists and is open to anyone else (logged when
    that fails, e.g. the file belongs to another user)."""
    path = Path(path)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode != FILE_MODE:
            os.chmod(path, FILE_MODE)
    except FileNotFoundError:
        return
    except OSError as exc:
        log.warning("could not make %s private (mode 0600): %s", path, exc)


def private_dir(folder: str | Path) -> Path:
    """A folder of ours: created if missing, and 0700 in any case."""
    folder = Path(folder)
    folder.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    if stat.S_IMODE(folder.stat().st_mode) != DIR_MODE:
        os.chmod(folder, DIR_MODE)
    return folder


def database_dir(folder: str | Path, *, ours: bool = False) -> Path:
    """The folder a database file goes in: created 0700 when missing, made
    0700 when `ours` (the default data folder); otherwise left as it is, with
    a warning when others may list or read it."""
    folder = Path(folder)
    if not folder.exists():
        return private_dir(folder)
    if ours:
        try:
            return private_dir(folder)
        except OSError as exc:
            log.warning("could not make %s private (mode 0700): %s", folder, exc)
            return folder
    mode = stat.S_IMODE(folder.stat().st_mode)
    if mode & 0o077:
        log.warning(
            "database folder %s has mode %o: other users may read files DuckDB writes"
            " there besides the database (its .wal and .tmp); make it 0700", folder, mode)
    return folder
