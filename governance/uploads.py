"""Uploaded files on disk: where they are written, for how long, and their removal.

The data page writes each uploaded file to disk because the importer reads
from a path. Those files hold residents' data, so:

- they live in `uploads/` beside the database (0700), one folder per browser
  session (0700, so one session's removal never touches another's file), each
  file 0600 and named by its SHA-256 (`<hash>.csv`);
- the page removes a batch's files (`discard`) as soon as its import has been
  applied or refused, and files that failed validation once they have been
  judged. Streamlit keeps the upload in the session's memory while the file
  stays in the uploader, so a later run that needs it writes it again;
- anything not written or used for KEEP_S (a session closed before importing)
  is purged at start and every PURGE_EVERY_S by a background thread (`start`).
  `store` refreshes a file's time each run that uses it, so a file in use is
  never purged.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from governance import private_files

log = logging.getLogger("governance.uploads")

UPLOAD_DIR_NAME = "uploads"
# A file neither written nor used for this long is removed.
KEEP_S = 3600
# How often the background purge runs.
PURGE_EVERY_S = 300

_purgers: dict[Path, threading.Thread] = {}
_purgers_lock = threading.Lock()


def upload_root(db_path: str | Path) -> Path:
    """`uploads/` beside the database file (not created here)."""
    return Path(db_path).expanduser().resolve().parent / UPLOAD_DIR_NAME


def session_dir(root: Path, session_key: str) -> Path:
    """The private folder of one browser session's uploads (created 0700).
    Named by a hash of the session key, which is not written anywhere."""
    name = hashlib.sha256(session_key.encode("utf-8")).hexdigest()[:16]
    private_files.private_dir(root)
    return private_files.private_dir(root / name)


def store(folder: Path, data: bytes, suffix: str) -> tuple[Path, str]:
    """Write `data` as `<sha256><suffix>` in `folder` (0600), unless it is
    there already, in which case its time is refreshed. Returns (path, hash)."""
    digest = hashlib.sha256(data).hexdigest()
    path = folder / f"{digest}{suffix}"
    if path.exists():
        with contextlib.suppress(FileNotFoundError):  # purged in between: written below
            os.utime(path)
            return path, digest
    # mkstemp makes the file 0600 from the start; chmod says so whatever the platform.
    try:
        fd, partial = tempfile.mkstemp(dir=private_files.private_dir(folder), suffix=".part")
    except FileNotFoundError:  # the purge took the empty folder just now: once more
        fd, partial = tempfile.mkstemp(dir=private_files.private_dir(folder), suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), private_files.FILE_MODE)
            handle.write(data)
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(partial)
        raise
    return path, digest


def discard(paths: Iterable[str | Path]) -> list[Path]:
    """Delete stored uploads (their import was applied or refused); a session
    folder left empty goes too. Returns the files deleted."""
    removed = []
    for path in {Path(p) for p in paths}:
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError:
            log.exception("could not delete the uploaded file %s", path)
            continue
        removed.append(path)
        with contextlib.suppress(OSError):  # not empty (another upload): it stays
            path.parent.rmdir()
    return removed


def purge(root: Path, keep_s: float = KEEP_S, now: float | None = None) -> list[Path]:
    """Delete files under `root` (and its session folders) not written or used
    for `keep_s` seconds, and session folders that this left empty or that
    stayed empty as long. Returns the files deleted."""
    if not root.is_dir():
        return []
    cutoff = (time.time() if now is None else now) - keep_s
    removed = []
    for entry in root.iterdir():
        entries = list(entry.iterdir()) if entry.is_dir() else [entry]
        emptied = False
        for item in entries:
            try:
                if item.is_file() and item.stat().st_mtime < cutoff:
                    item.unlink()
                    removed.append(item)
                    emptied = True
            except OSError:
                continue
        if entry.is_dir():
            with contextlib.suppress(OSError):  # rmdir removes only an empty folder
                if emptied or entry.stat().st_mtime < cutoff:
                    entry.rmdir()
    return removed


def _purge_forever(root: Path, every_s: float, keep_s: float, stop: threading.Event) -> None:
    while not stop.wait(every_s):
        try:
            removed = purge(root, keep_s)
            if removed:
                log.info("purged %d uploaded file(s) older than %d s", len(removed), keep_s)
        except Exception:  # noqa: BLE001 — the purge keeps running
            log.exception("purging uploads in %s failed", root)


def start(root: Path, every_s: float = PURGE_EVERY_S, keep_s: float = KEEP_S,
          stop: threading.Event | None = None) -> threading.Thread:
    """Purge `root` now, then every `every_s` seconds in a daemon thread (one
    per folder per process; a second call returns the running one)."""
    root = Path(root)
    removed = purge(root, keep_s)
    if removed:
        log.info("purged %d uploaded file(s) left from before this start", len(removed))
    with _purgers_lock:
        running = _purgers.get(root)
        if running is not None and running.is_alive():
            return running
        thread = threading.Thread(
            target=_purge_forever, args=(root, every_s, keep_s, stop or threading.Event()),
            name="governance-upload-purge", daemon=True)
        thread.start()
        _purgers[root] = thread
        return thread
