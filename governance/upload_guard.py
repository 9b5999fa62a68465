"""Read an uploaded file through once, in a child process with a memory and a
time limit, before the server validates it.

A hostile file costs whoever parses it: a zip bomb that openpyxl inflates
into a 300 MB shared string, a CSV line without line breaks read whole, a
workbook whose cells make a million Python objects. Parsed inside the
Streamlit server, such a file held a session's thread for minutes, slowed
every other session, and left the server process hundreds of megabytes
larger (Python rarely gives freed memory back to the system).

`check_file(path)` refuses an .xlsx whose zip directory declares a bomb at
once (xlsx_archive, in this process: it reads a few kilobytes). Otherwise it
runs `tabular.scan` — every row of every sheet, read as the importer reads
them — in a fresh interpreter (`python -m governance.upload_guard`) whose
address space is limited with RLIMIT_AS and which is killed after a
wall-clock limit. Whatever the child allocates is returned to the system
when it exits. A file it read through costs the server a known amount to
validate and import; a file it could not read is refused with the reason,
and the server never parses it.

The child answers on stdout, one JSON object a line: {"rows": n} while it
reads, then {"ok": true, "table": name or null} or {"ok": false, "reason":
text}; {"memory": true} when an allocation failed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import selectors
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ElementTree
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from governance import decoding, tabular, xlsx_archive
from governance.contract import detect_table
from governance.text import t

log = logging.getLogger("governance.upload_guard")

MiB = 1 << 20
# The child's address space (RLIMIT_AS). Reading the 500,000-row province
# export through (benchmarks/hostile_upload.py --real) peaks at 373 MB of
# address space, 250 MB resident; the interpreter with openpyxl starts at
# 160 MB. The server validates a file that passed with about as much again
# (its staging database is limited to 256 MB, importer/staging.py).
CHECK_MEMORY_LIMIT_MB = 1536
# Wall-clock limit for reading one file through. The 500,000-row export
# takes 62 s on an idle 2-core machine, 80 s on a busy one; a 20 MB CSV 1.3 s.
CHECK_TIMEOUT_S = 600
# Checks running at once, machine-wide (each may use CHECK_MEMORY_LIMIT_MB and
# a core); more uploads wait their turn. One app process counts them with a
# semaphore. The processes of a cluster on one host share the count through
# slot files in $GOVERNANCE_UPLOAD_CHECK_SLOTS (governance/cluster.py sets it
# to a folder in its run folder): memory and cores are the host's, so the
# count is per host, never in the state store that spans hosts.
MAX_CONCURRENT_CHECKS = 2
SLOTS_ENV_VAR = "GOVERNANCE_UPLOAD_CHECK_SLOTS"
# How often a check waiting for a slot file looks again.
SLOT_POLL_S = 0.25
# The child yields the processor to the server's own sessions.
CHILD_NICE = 10
# How often the child reports the rows it has read.
PROGRESS_EVERY_ROWS = 20_000

_PROJECT_DIR = Path(__file__).resolve().parent.parent
_SLOTS = threading.BoundedSemaphore(MAX_CONCURRENT_CHECKS)
_MEMORY_LINE = b'{"memory": true}\n'
_EXIT_MEMORY = 3


@dataclass(frozen=True)
class Verdict:
    """What reading the file through found."""

    reason: str | None  # the refusal in Chinese; None: read through
    table: str | None = None  # the table its header names, if any

    @property
    def ok(self) -> bool:
        return self.reason is None


def guess_table(head: list[list[str | None]]) -> str | None:
    """The table the first header-like row of `head` names, or None."""
    for row in head:
        table = detect_table([cell if cell is not None else "" for cell in row])
        if table is not None:
            return table.name
    return None


def check_file(
    path: Path,
    progress: Callable[[int], None] | None = None,
    *,
    memory_limit_mb: int = CHECK_MEMORY_LIMIT_MB,
    timeout_s: float = CHECK_TIMEOUT_S,
) -> Verdict:
    """Read `path` through in a limited child process; see the module doc.

    `progress(rows read)` is called from this thread as the child reports.
    """
    path = Path(path)
    if path.suffix.lower() in tabular.XLSX_SUFFIXES:
        reason = xlsx_archive.check(path)
        if reason is not None:
            return Verdict(reason)
    with check_slot():
        return _run_child(path, progress, memory_limit_mb, timeout_s)


@contextlib.contextmanager
def check_slot():
    """One of the MAX_CONCURRENT_CHECKS slots, waiting until one is free:
    this process's semaphore, or the slot files shared by a cluster's
    processes when $GOVERNANCE_UPLOAD_CHECK_SLOTS names their folder."""
    folder = os.environ.get(SLOTS_ENV_VAR, "").strip()
    if not folder:
        with _SLOTS:
            yield
        return
    held = try_file_slot(Path(folder))
    while held is None:
        time.sleep(SLOT_POLL_S)
        held = try_file_slot(Path(folder))
    try:
        yield
    finally:
        os.close(held)  # closing the file releases its lock


def try_file_slot(folder: Path, slots: int = MAX_CONCURRENT_CHECKS) -> int | None:
    """A free slot file in `folder`, locked (flock) and open; None when all
    are taken. The kernel releases a lock when its holder exits, however it
    ends, so a killed app process never keeps a slot. Each call opens its own
    file, and flock locks belong to the open file, so two threads of one
    process exclude each other as two processes do."""
    import fcntl

    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    for number in range(slots):
        fd = os.open(folder / f"slot-{number}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return fd
    return None


def child_command(path: Path, memory_limit_mb: int) -> list[str]:
    """The child's command line (this module run as a script)."""
    return [sys.executable, "-m", "governance.upload_guard",
            "--memory-mb", str(memory_limit_mb), str(path)]


def _run_child(path: Path, progress, memory_limit_mb: int, timeout_s: float) -> Verdict:
    command = child_command(path, memory_limit_mb)
    started = time.monotonic()
    with tempfile.TemporaryFile() as errors:
        child = subprocess.Popen(
            command, cwd=_PROJECT_DIR, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=errors, close_fds=True,
        )
        try:
            answer = _read_answer(child, progress, started + timeout_s)
            if answer is None:
                log.warning("upload check of %s timed out after %.0f s", path.name, timeout_s)
                return Verdict(t("import.guard.timeout", seconds=f"{timeout_s:,.0f}"))
            with contextlib.suppress(subprocess.TimeoutExpired):  # answered: ended below
                child.wait(timeout=max(1.0, started + timeout_s - time.monotonic()))
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
            child.stdout.close()
        if answer.get("memory"):
            log.warning("upload check of %s ran out of memory (%d MB)", path.name,
                        memory_limit_mb)
            return Verdict(t("import.guard.memory", limit=f"{memory_limit_mb:,}"))
        if "ok" not in answer:
            errors.seek(0)
            detail = errors.read()[-4000:].decode("utf-8", "replace")
            log.error("upload check of %s ended without an answer (exit %s): %s",
                      path.name, child.returncode, detail)
            return Verdict(t("import.guard.crashed", limit=f"{memory_limit_mb:,}"))
        if answer["ok"]:
            return Verdict(None, answer.get("table"))
        return Verdict(str(answer.get("reason")))


def _read_answer(child: subprocess.Popen, progress, deadline: float) -> dict | None:
    """The child's last answer ({} when it said nothing); None on timeout."""
    answer: dict = {}
    pending = b""
    stream = child.stdout
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            if not selector.select(remaining):
                continue
            block = os.read(stream.fileno(), 1 << 16)
            if not block:
                return answer
            pending += block
            *lines, pending = pending.split(b"\n")
            for line in lines:
                try:
                    message = json.loads(line)
                except ValueError:
                    continue
                if "rows" in message:
                    if progress is not None:
                        progress(int(message["rows"]))
                else:
                    answer = message


# -- the child ------------------------------------------------------------------


def _out_of_memory(exc: BaseException) -> bool:
    """An allocation that failed, however the library reported it."""
    while exc is not None:
        if isinstance(exc, MemoryError):
            return True
        if isinstance(exc, ElementTree.ParseError) and getattr(exc, "code", None) == 1:
            return True  # expat's XML_ERROR_NO_MEMORY
        if isinstance(exc, zlib.error) and "memory" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _child(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="governance.upload_guard")
    parser.add_argument("--memory-mb", type=int, required=True)
    parser.add_argument("path")
    args = parser.parse_args(argv)
    import resource

    limit = args.memory_mb * MiB
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    with contextlib.suppress(OSError):
        os.nice(CHILD_NICE)

    def emit(message: dict) -> None:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()

    try:
        head = tabular.scan(Path(args.path), progress=lambda rows: emit({"rows": rows}),
                            every=PROGRESS_EVERY_ROWS)
        emit({"ok": True, "table": guess_table(head)})
    except (tabular.TabularError, decoding.DecodeError) as exc:
        if _out_of_memory(exc):
            os.write(1, _MEMORY_LINE)
            return _EXIT_MEMORY
        emit({"ok": False, "reason": exc.reason})
    except OSError as exc:
        emit({"ok": False, "reason": t("import.read_failed",
                                       detail=exc.strerror or type(exc).__name__)})
    except Exception as exc:
        if _out_of_memory(exc):
            os.write(1, _MEMORY_LINE)
            return _EXIT_MEMORY
        raise
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1:]))
