"""The upload checks' limit of MAX_CONCURRENT_CHECKS at once holds across the
processes of a cluster: they share slot files (flock) in the folder that
$GOVERNANCE_UPLOAD_CHECK_SLOTS names, and a slot's holder that dies frees it."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

from governance import upload_guard

# Another app process of the cluster: takes every slot it can, says how many,
# and holds them until its stdin closes (or it is killed).
HOLDER = """
import sys
from pathlib import Path
from governance import upload_guard
held = []
while (fd := upload_guard.try_file_slot(Path(sys.argv[1]))) is not None:
    held.append(fd)
print(len(held), flush=True)
sys.stdin.read()
"""


def _holder(folder) -> subprocess.Popen:
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(folder)], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, text=True, cwd=upload_guard._PROJECT_DIR)
    assert child.stdout.readline().strip() == str(upload_guard.MAX_CONCURRENT_CHECKS)
    return child


def test_slots_taken_by_another_process_are_not_free_here_until_it_ends(tmp_path):
    folder = tmp_path / "slots"
    child = _holder(folder)
    try:
        assert upload_guard.try_file_slot(folder) is None
    finally:
        child.kill()  # dies holding both: the kernel frees them
        child.wait()
    fd = upload_guard.try_file_slot(folder)
    assert fd is not None
    os.close(fd)


def test_threads_of_one_process_exclude_each_other_too(tmp_path):
    folder = tmp_path / "slots"
    held = [upload_guard.try_file_slot(folder) for _ in range(upload_guard.MAX_CONCURRENT_CHECKS)]
    assert None not in held
    assert upload_guard.try_file_slot(folder) is None
    os.close(held.pop())
    again = upload_guard.try_file_slot(folder)
    assert again is not None
    for fd in [*held, again]:
        os.close(fd)


def test_a_check_waits_for_a_slot_file_then_runs(tmp_path, monkeypatch):
    folder = tmp_path / "slots"
    monkeypatch.setenv(upload_guard.SLOTS_ENV_VAR, str(folder))
    path = tmp_path / "c.csv"
    path.write_text("社区编码,社区名称\nC001,社区1\n", encoding="utf-8")
    child = _holder(folder)
    verdicts: list[upload_guard.Verdict] = []
    checking = threading.Thread(target=lambda: verdicts.append(upload_guard.check_file(path)))
    try:
        checking.start()
        checking.join(timeout=3 * upload_guard.SLOT_POLL_S)
        assert checking.is_alive() and verdicts == []  # every slot is the other process's
    finally:
        child.stdin.close()  # the other process finishes its checks
        child.wait()
    checking.join(timeout=120)
    assert len(verdicts) == 1 and verdicts[0].ok
    # The check gave its slot back.
    fds = [upload_guard.try_file_slot(folder)
           for _ in range(upload_guard.MAX_CONCURRENT_CHECKS)]
    assert None not in fds
    for fd in fds:
        os.close(fd)


def test_without_the_setting_one_process_counts_with_its_semaphore(tmp_path, monkeypatch):
    monkeypatch.delenv(upload_guard.SLOTS_ENV_VAR, raising=False)
    with upload_guard.check_slot():
        assert not any(tmp_path.iterdir())  # no slot files anywhere near
        # The semaphore has one slot fewer while this one is held.
        assert upload_guard._SLOTS._value == upload_guard.MAX_CONCURRENT_CHECKS - 1
