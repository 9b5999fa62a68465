"""The upload check: a file is read through in a child process with a memory
and a time limit, and the server only ever sees the verdict."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from governance import upload_guard
from governance.text import t
from tests.hostile_files import SST_HEAD, shared_string_bomb, write_workbook

COMMUNITIES_CSV = (
    "社区基本情况表\n"
    "社区编码,社区名称,街道,社区类型,户数,常住人口,办公和活动用房面积\n"
    + "".join(f"C{i:03d},社区{i},东街道,城市社区,{100 + i},{300 + i},{200 + i}\n"
              for i in range(1, 51))
)


@pytest.fixture
def children(monkeypatch):
    """Every child process the check starts."""
    started: list[subprocess.Popen] = []
    real = subprocess.Popen

    def popen(*args, **kwargs):
        child = real(*args, **kwargs)
        started.append(child)
        return child

    monkeypatch.setattr(upload_guard.subprocess, "Popen", popen)
    return started


def test_a_good_csv_is_read_through_in_a_child_and_its_table_guessed(tmp_path, children):
    path = tmp_path / "c.csv"
    path.write_bytes(COMMUNITIES_CSV.encode("gbk"))
    seen: list[int] = []
    verdict = upload_guard.check_file(path, progress=seen.append)
    assert verdict == upload_guard.Verdict(None, "communities")
    assert verdict.ok
    assert seen[-1] == 52  # every record: title, header, 50 rows
    assert len(children) == 1 and children[0].returncode == 0


def test_a_file_level_problem_comes_back_as_its_reason(tmp_path):
    path = tmp_path / "renamed.csv"
    path.write_bytes(b"PK\x03\x04\x14\x00\x00\x00")
    assert upload_guard.check_file(path) == upload_guard.Verdict(t("import.nul_bytes"))


def test_a_bomb_is_refused_without_starting_a_child(tmp_path, monkeypatch):
    bomb = shared_string_bomb(tmp_path / "bomb.xlsx", megabytes=300)

    def no_child(*args, **kwargs):
        raise AssertionError("the zip directory alone refuses a bomb")

    monkeypatch.setattr(upload_guard.subprocess, "Popen", no_child)
    verdict = upload_guard.check_file(bomb)
    assert not verdict.ok
    assert "300 MB" in verdict.reason and verdict.table is None


def _many_strings(path: Path, count: int) -> Path:
    """A workbook whose shared-strings part is modest on disk and in ratio but
    makes `count` Python strings (and their elements) when openpyxl reads it."""
    def chunks():
        yield SST_HEAD.encode()
        for start in range(0, count, 50_000):
            yield "".join(f"<si><t>{i:09d} 居民反映情况已核实处置</t></si>"
                          for i in range(start, min(start + 50_000, count))).encode()
        yield b"</sst>"

    return write_workbook(path, '<row r="1"><c r="A1" t="s"><v>0</v></c></row>', chunks())


def test_a_file_needing_more_memory_than_the_limit_is_refused(tmp_path, children):
    limit = 256
    small = _many_strings(tmp_path / "small.xlsx", 1_000)
    assert upload_guard.check_file(small, memory_limit_mb=limit).ok  # the limit lets a file in
    large = _many_strings(tmp_path / "large.xlsx", 700_000)  # ~300 MB to read
    verdict = upload_guard.check_file(large, memory_limit_mb=limit)
    assert verdict == upload_guard.Verdict(t("import.guard.memory", limit="256"))
    assert all(child.returncode is not None for child in children)


def test_a_check_over_time_is_stopped_and_its_child_ended(tmp_path, children):
    path = tmp_path / "c.csv"
    path.write_bytes(COMMUNITIES_CSV.encode())
    verdict = upload_guard.check_file(path, timeout_s=0.05)  # less than a start takes
    assert verdict == upload_guard.Verdict(t("import.guard.timeout", seconds="0"))
    assert len(children) == 1 and children[0].returncode is not None  # killed and reaped


def test_a_child_that_dies_without_answering_is_a_refusal(tmp_path, monkeypatch, caplog):
    path = tmp_path / "c.csv"
    path.write_bytes(COMMUNITIES_CSV.encode())
    monkeypatch.setattr(upload_guard, "child_command", lambda path, limit: [
        sys.executable, "-c", "import os, sys; sys.stderr.write('boom'); os.abort()"])
    verdict = upload_guard.check_file(path)
    assert verdict == upload_guard.Verdict(t("import.guard.crashed", limit="1,536"))
    assert "boom" in caplog.text  # the child's own words reach the server log
