"""governance/uploads.py: uploaded files private, removed after their import,
and purged when left behind."""

from __future__ import annotations

import hashlib
import os
import stat
import threading
import time

import pytest

from governance import uploads


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def root(tmp_path):
    return uploads.upload_root(tmp_path / "district.duckdb")


@pytest.fixture
def open_umask():
    before = os.umask(0)
    yield
    os.umask(before)


def test_files_are_private_per_session_and_named_by_their_hash(root, open_umask):
    data = "社区编码,户数\nC1,100\n".encode()
    folder = uploads.session_dir(root, "session-a")
    path, digest = uploads.store(folder, data, ".csv")
    assert digest == hashlib.sha256(data).hexdigest()
    assert path == folder / (digest + ".csv") and path.read_bytes() == data
    assert path.parent.parent == root
    assert mode(root) == 0o700 and mode(folder) == 0o700 and mode(path) == 0o600
    # The folder is named by a hash of the session, which appears nowhere on disk.
    assert "session-a" not in str(path)
    other = uploads.session_dir(root, "session-b")
    assert other != folder
    # No temporary file is left behind.
    assert [p.name for p in folder.iterdir()] == [path.name]


def test_storing_again_refreshes_the_time_instead_of_writing(root):
    folder = uploads.session_dir(root, "s")
    path, _ = uploads.store(folder, b"a,b\n1,2\n", ".csv")
    old = time.time() - 7200
    os.utime(path, (old, old))
    again, _ = uploads.store(folder, b"a,b\n1,2\n", ".csv")
    assert again == path and path.stat().st_mtime > old + 3600
    # Purged in between: written again.
    path.unlink()
    again, _ = uploads.store(folder, b"a,b\n1,2\n", ".csv")
    assert again.read_bytes() == b"a,b\n1,2\n"


def test_discard_removes_a_batch_and_only_its_files(root):
    mine = uploads.session_dir(root, "mine")
    theirs = uploads.session_dir(root, "theirs")
    a, _ = uploads.store(mine, b"a\n1\n", ".csv")
    b, _ = uploads.store(mine, b"b\n2\n", ".xlsx")
    same_bytes_elsewhere, _ = uploads.store(theirs, b"a\n1\n", ".csv")
    assert sorted(uploads.discard([a, b, a])) == sorted([a, b])
    assert not a.exists() and not b.exists() and not mine.exists()  # empty folder gone
    assert same_bytes_elsewhere.exists()  # another session's copy of the same file
    assert uploads.discard([a]) == []  # already gone: nothing to say


def test_purge_removes_what_was_left_longer_than_the_limit(root):
    folder = uploads.session_dir(root, "old")
    fresh_folder = uploads.session_dir(root, "new")
    stale, _ = uploads.store(folder, b"old\n", ".csv")
    fresh, _ = uploads.store(fresh_folder, b"new\n", ".csv")
    stray = root / "left-by-an-older-version.csv"
    stray.write_bytes(b"x")
    now = time.time()
    for path in (stale, stray, folder):
        os.utime(path, (now - uploads.KEEP_S - 10, now - uploads.KEEP_S - 10))
    removed = uploads.purge(root, now=now)
    assert sorted(removed) == sorted([stale, stray])
    assert fresh.exists() and not folder.exists() and fresh_folder.exists()
    assert uploads.purge(root / "missing") == []


def test_start_purges_now_and_then_periodically(tmp_path):
    root = uploads.upload_root(tmp_path / "db.duckdb")
    folder = uploads.session_dir(root, "s")
    before, _ = uploads.store(folder, b"before\n", ".csv")
    os.utime(before, (0, 0))
    stop = threading.Event()
    thread = uploads.start(root, every_s=0.05, keep_s=60, stop=stop)
    try:
        assert not before.exists()  # at start
        assert uploads.start(root, every_s=0.05, keep_s=60) is thread  # one per folder
        later, _ = uploads.store(folder, b"later\n", ".csv")
        os.utime(later, (0, 0))
        deadline = time.monotonic() + 10
        while later.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not later.exists()  # by the background thread
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()
