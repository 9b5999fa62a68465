"""Strict encoding cascade: UTF-8 (BOM or not) → GB18030 → refuse."""

from __future__ import annotations

import codecs
import hashlib

import pytest

from governance import decoding

HEADER = "社区编码,社区名称,街道\n"
ROW = "C001,东风社区,城关街道\n"


def _write(tmp_path, data: bytes, name: str = "f.csv"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ((HEADER + ROW).encode("utf-8"), "utf-8-sig"),
        ((HEADER + ROW).encode("utf-8-sig"), "utf-8-sig"),
        ((HEADER + ROW).encode("gbk"), "gb18030"),
        ((HEADER + ROW).encode("gb18030"), "gb18030"),
    ],
    ids=["utf8", "utf8-bom", "gbk", "gb18030"],
)
def test_each_encoding_is_recognised_and_reads_back(tmp_path, data, expected):
    path = _write(tmp_path, data)
    inspection = decoding.inspect(path)
    assert inspection.encoding == expected
    assert inspection.sha256 == hashlib.sha256(data).hexdigest()
    assert inspection.size == len(data)
    with decoding.open_text(path, inspection.encoding) as handle:
        assert handle.read() == HEADER + ROW  # a BOM never leaks into the text


def test_mostly_ascii_gbk_with_chinese_only_after_the_first_block(tmp_path, monkeypatch):
    # A detector sampling the start sees pure ASCII; the strict cascade must
    # notice the GBK bytes late in the file and restart as GB18030.
    monkeypatch.setattr(decoding, "BLOCK_SIZE", 64)
    text = "community_id,community_name,street\n" + "C001,A,B\n" * 200 + "C999,东风社区,城关\n"
    path = _write(tmp_path, text.encode("gbk"))
    assert decoding.detect_encoding(path) == "gb18030"
    assert "".join(decoding.iter_text(path, block_chars=50)) == text


def test_utf8_character_split_across_blocks_stays_utf8(tmp_path, monkeypatch):
    monkeypatch.setattr(decoding, "BLOCK_SIZE", 5)  # splits the 3-byte characters
    text = "ab社区编码c" * 20
    path = _write(tmp_path, text.encode("utf-8"))
    assert decoding.detect_encoding(path) == "utf-8-sig"


@pytest.mark.parametrize(
    "data",
    [
        b"\x80\x81\xff\xfe abc",  # neither UTF-8 nor GB18030
        "社区编码,名称\n".encode("utf-16"),  # UTF-16 with BOM
        "社区编码,名称\n".encode("utf-16-le"),  # UTF-16 without BOM: NUL bytes
        b"a,b\n\x00\x00\n",
    ],
    ids=["garbage", "utf16-bom", "utf16-no-bom", "nul"],
)
def test_neither_encoding_is_refused(tmp_path, data):
    path = _write(tmp_path, data)
    with pytest.raises(decoding.DecodeError):
        decoding.inspect(path)
    with pytest.raises(decoding.DecodeError):
        decoding.decode_bytes(data)


def test_invalid_bytes_late_in_a_large_file_are_refused_not_replaced(tmp_path, monkeypatch):
    monkeypatch.setattr(decoding, "BLOCK_SIZE", 1024)
    data = ("C001,东风社区\n" * 2000).encode("utf-8") + b"\xff\xff\n"
    path = _write(tmp_path, data)
    with pytest.raises(decoding.DecodeError):
        decoding.inspect(path)


def test_empty_and_bom_only_files_are_flagged_empty(tmp_path):
    assert decoding.inspect(_write(tmp_path, b"", "a.csv")).empty
    assert decoding.inspect(_write(tmp_path, codecs.BOM_UTF8, "b.csv")).empty
    assert not decoding.inspect(_write(tmp_path, b"x", "c.csv")).empty


def test_transcode_streams_to_utf8(tmp_path, monkeypatch):
    monkeypatch.setattr(decoding, "BLOCK_SIZE", 16)
    text = HEADER + ROW * 50
    source = _write(tmp_path, text.encode("gbk"))
    target = decoding.transcode_to_utf8(source, tmp_path / "out.csv")
    assert target.read_bytes() == text.encode("utf-8")


def test_decode_bytes_prefers_utf8():
    assert decoding.decode_bytes("社区".encode()) == ("社区", "utf-8-sig")
    assert decoding.decode_bytes("社区".encode("gbk")) == ("社区", "gb18030")


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        # A NUL late in a GB18030 file: found in the bytes, after UTF-8 failed.
        ("社区编码,名称\n".encode("gb18030") * 300 + b"C1,\x00\n", decoding.NUL_BYTES),
        (b"a,b\n1,\x00\n", decoding.NUL_BYTES),
    ],
    ids=["gb18030-nul", "ascii-nul"],
)
def test_a_nul_character_is_refused_as_not_text(tmp_path, monkeypatch, data, kind):
    monkeypatch.setattr(decoding, "BLOCK_SIZE", 512)
    with pytest.raises(decoding.DecodeError) as refused:
        decoding.inspect(_write(tmp_path, data))
    assert refused.value.kind == kind


def test_an_overlong_utf8_nul_is_no_nul(tmp_path):
    """C0 80 (U+0000 spelled overlong) is refused by strict UTF-8 and reads as
    one GB18030 character: no NUL reaches the text either way."""
    path = _write(tmp_path, b"a,b\n1,\xc0\x80\n")
    assert decoding.inspect(path).encoding == "gb18030"
    assert "\x00" not in "".join(decoding.iter_text(path))


@pytest.mark.parametrize("slice_size", [1, 2, 3])
@pytest.mark.parametrize(
    ("text", "encoding", "expected"),
    [
        ("社区编码,名称\nC001,东风社区\n" * 10, "utf-8", "utf-8-sig"),
        ("社区编码,名称\nC001,东风社区\n" * 10, "utf-8-sig", "utf-8-sig"),
        ("社区编码,名称\nC001,东风社区\n" * 10, "gb18030", "gb18030"),
    ],
)
def test_decoding_in_slices_splits_no_character_wrongly(tmp_path, monkeypatch, text, encoding,
                                                         expected, slice_size):
    """Slices of one, two and three bytes cut through every multi-byte
    character and the BOM: the encoding found and the refusals stay the same."""
    monkeypatch.setattr(decoding, "DECODE_SLICE", slice_size)
    monkeypatch.setattr(decoding, "BLOCK_SIZE", 7)
    data = text.encode(encoding)
    assert decoding.inspect(_write(tmp_path, data)).encoding == expected
    with pytest.raises(decoding.DecodeError):
        decoding.inspect(_write(tmp_path, data + b"\xff\xff\xff\n", "bad.csv"))


LINE_END_BLOCKS = [
    [b"a\rb\n"],  # a lone CR, then an LF: no CR LF pair
    [b"\r"],
    [b"\r\r\n"],
    [b"x\r\n\r", b"\ny\n"],  # a pair across blocks
    [b"a\nb\r", b"c"],  # a lone CR ending a block
    [b"a\r\nb\r\n", b"\r\n\r\n", b"\n\r"],
    [bytes([10, 13, 65] * 50 + [13]), bytes([10, 13, 13, 10] * 40)],
]


@pytest.mark.parametrize("numpy_loaded", [True, False])
@pytest.mark.parametrize("blocks", LINE_END_BLOCKS)
def test_line_ends_are_counted_as_bytes_count_them(monkeypatch, blocks, numpy_loaded):
    """Counted on a numpy array (numpy already loaded) or with bytes.count,
    the LF, CR and CR LF totals are those of the whole file's bytes."""
    import sys

    import numpy  # noqa: F401 — loaded, as in the importer's process

    if not numpy_loaded:
        monkeypatch.setitem(sys.modules, "numpy", None)
    ends = decoding.LineEnds()
    for block in blocks:
        ends = ends.add(block)
    whole = b"".join(blocks)
    assert (ends.lf, ends.cr, ends.crlf) == (
        whole.count(b"\n"), whole.count(b"\r"), whole.count(b"\r\n"))
    assert ends.last_byte == whole[-1]


def test_a_lone_cr_before_an_lf_is_no_crlf_file(tmp_path):
    path = _write(tmp_path, b"a,b\r\n1,2\rx\n")
    assert decoding.inspect(path).line_ends.newline is None
