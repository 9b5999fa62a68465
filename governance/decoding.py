"""Decide a CSV file's encoding, strictly, without holding its text in memory.

The cascade is fixed: UTF-8 (with or without BOM) → GB18030 (a superset of GBK,
what Excel writes on Chinese Windows) → refuse. Each candidate is tried with a
strict incremental decoder over the whole file in blocks, so a 200 MB upload
costs at most two sequential reads and a few MB of memory; a file that fails
UTF-8 halfway restarts from the beginning as GB18030. Nothing is ever decoded
with errors='replace' or 'ignore', and no statistical charset detector is used
(they misread mostly-ASCII GBK files).

A file containing NUL characters, or starting with a UTF-16/UTF-32 byte-order
mark, is refused too: such text decodes "validly" as UTF-8 or GB18030 but into
nonsense. The refusal says which (`DecodeError.reason`): a NUL byte means the
file is not text at all (typically an Excel file renamed to .csv), which calls
for a different fix than an unknown encoding.
"""

from __future__ import annotations

import codecs
import hashlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from governance.text import t

BLOCK_SIZE = 1 << 20
DECODE_SLICE = 1 << 16
CASCADE = ("utf-8-sig", "gb18030")
_WIDE_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


# Why a file is refused: DecodeError.kind.
UNDECODABLE = "undecodable"  # neither UTF-8 nor GB18030
NUL_BYTES = "nul"  # contains a NUL byte: not a text file
WIDE_ENCODING = "wide"  # UTF-16 / UTF-32 byte-order mark

_REASON_KEYS = {
    UNDECODABLE: "import.decode_failed",
    NUL_BYTES: "import.nul_bytes",
    WIDE_ENCODING: "import.wide_encoding",
}


class DecodeError(Exception):
    """The bytes are neither UTF-8 nor GB18030 (or are UTF-16/32 or binary)."""

    def __init__(self, name: str, kind: str = UNDECODABLE) -> None:
        super().__init__(name, kind)
        self.kind = kind

    @property
    def reason(self) -> str:
        """The refusal in Chinese, saying what to do."""
        return t(_REASON_KEYS[self.kind])


def has_nul_byte(path: Path) -> bool:
    with open(path, "rb") as handle:
        return any(b"\x00" in block for block in iter(lambda: handle.read(BLOCK_SIZE), b""))


def _count_ends(block: bytes) -> tuple[int, int, int]:
    """(LF, CR, CR LF) bytes in the block. With numpy already loaded (the
    importer's process) counted on an array, three times as fast as bytes.count
    (the two-byte count especially), most of inspect's time; numpy is not
    imported for it (the upload check's child does without)."""
    np = sys.modules.get("numpy")
    if np is None:
        cr = block.count(b"\r")
        return block.count(b"\n"), cr, block.count(b"\r\n") if cr else 0
    codes = np.frombuffer(block, np.uint8)
    lf = int(np.count_nonzero(codes == 0x0A))
    after_cr = np.flatnonzero(codes == 0x0D) + 1
    cr = len(after_cr)
    if not cr:
        return lf, 0, 0
    after_cr = after_cr[after_cr < len(codes)]
    return lf, cr, int(np.count_nonzero(codes[after_cr] == 0x0A))


@dataclass(frozen=True)
class LineEnds:
    """How a file's lines end, counted on its bytes (0x0A and 0x0D never occur
    inside a multi-byte UTF-8 or GB18030 character): lets the engine read the
    lines and the import still number them as the csv module does."""

    lf: int = 0  # LF bytes, those of CRLF included
    cr: int = 0  # CR bytes, those of CRLF included
    crlf: int = 0
    last_byte: int | None = None

    def add(self, block: bytes) -> LineEnds:
        if not block:
            return self
        joined = 1 if self.last_byte == 0x0D and block[0] == 0x0A else 0
        lf, cr, crlf = _count_ends(block)
        return LineEnds(self.lf + lf, self.cr + cr, self.crlf + crlf + joined, block[-1])

    @property
    def newline(self) -> str | None:
        """LF or CRLF when every line ends the same way, else None (a lone CR,
        or both kinds: the engine's reader and the csv module could then
        disagree on where a line ends)."""
        if self.cr == 0:
            return "\n"
        if self.cr == self.crlf == self.lf:
            return "\r\n"
        return None

    @property
    def lines(self) -> int:
        """Physical lines as the csv module counts them (uniform endings)."""
        if self.last_byte is None:
            return 0
        return self.lf + (0 if self.last_byte == 0x0A else 1)


@dataclass(frozen=True)
class Inspection:
    encoding: str  # "utf-8-sig" or "gb18030"; also right for BOM-less UTF-8
    sha256: str
    size: int
    empty: bool  # no characters at all once decoded (a BOM alone counts as empty)
    line_ends: LineEnds = LineEnds()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(BLOCK_SIZE), b""):
            digest.update(block)
    return digest.hexdigest()


def _try_decode(
    path: Path, encoding: str, digest: hashlib._Hash | None, ends: list[LineEnds] | None = None
) -> tuple[bool, bool]:
    """(decodes strictly, has any character). Updates digest if given (full read);
    ends[0] becomes the file's line endings when given."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    any_text = False
    counted = LineEnds()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(BLOCK_SIZE), b""):
            if digest is not None:
                digest.update(block)
            if ends is not None:
                counted = counted.add(block)
                ends[:] = [counted]
            # U+0000 decodes from the byte 0x00 alone in both encodings (the
            # strict decoders refuse overlong forms), so the bytes are searched,
            # ~15× faster than the decoded text.
            if b"\x00" in block:
                return False, any_text
            view = memoryview(block)
            try:
                # In slices: a megabyte's text is a fresh allocation the
                # system maps and unmaps each time; a slice's is reused,
                # and decoding took half the time.
                for start in range(0, len(block), DECODE_SLICE):
                    text = decoder.decode(view[start:start + DECODE_SLICE], final=False)
                    any_text = any_text or bool(text)
            except UnicodeDecodeError:
                return False, any_text
        try:
            text = decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False, any_text
        return True, any_text or bool(text)


def inspect(path: Path) -> Inspection:
    """Encoding, hash and size of a CSV file; DecodeError when neither encoding fits."""
    path = Path(path)
    with open(path, "rb") as handle:
        head = handle.read(4)
    size = path.stat().st_size
    if head.startswith(_WIDE_BOMS) and not head.startswith(codecs.BOM_UTF8):
        raise DecodeError(path.name, WIDE_ENCODING)
    digest = hashlib.sha256()
    ends: list[LineEnds] = [LineEnds()]
    ok, any_text = _try_decode(path, CASCADE[0], digest, ends)
    sha = digest.hexdigest()
    if ok:
        return Inspection(CASCADE[0], sha, size, not any_text, ends[0])
    for encoding in CASCADE[1:]:
        ok, any_text = _try_decode(path, encoding, None, ends)
        if ok:
            return Inspection(encoding, sha, size, not any_text, ends[0])
    raise DecodeError(path.name, NUL_BYTES if has_nul_byte(path) else UNDECODABLE)


def detect_encoding(path: Path) -> str:
    return inspect(path).encoding


def open_text(path: Path, encoding: str | None = None) -> TextIO:
    """A text stream over the file (for the csv module: newline='' kept raw)."""
    encoding = encoding or detect_encoding(path)
    return open(path, encoding=encoding, errors="strict", newline="")


def decode_bytes(data: bytes) -> tuple[str, str]:
    """(text, encoding) for small in-memory data; DecodeError when neither fits."""
    if data.startswith(_WIDE_BOMS) and not data.startswith(codecs.BOM_UTF8):
        raise DecodeError("<bytes>", WIDE_ENCODING)
    if b"\x00" in data:
        raise DecodeError("<bytes>", NUL_BYTES)
    for encoding in CASCADE:
        try:
            text = data.decode(encoding, errors="strict")
        except UnicodeDecodeError:
            continue
        return text, encoding
    raise DecodeError("<bytes>")


def iter_text(
    path: Path, encoding: str | None = None, block_chars: int = BLOCK_SIZE
) -> Iterator[str]:
    """The decoded text in blocks, never the whole file at once."""
    with open_text(path, encoding) as handle:
        yield from iter(lambda: handle.read(block_chars), "")


def transcode_to_utf8(path: Path, target: Path, encoding: str | None = None) -> Path:
    """Write a UTF-8 (no BOM) copy of the file, streaming; returns target."""
    with open(target, "w", encoding="utf-8", newline="") as out:
        for block in iter_text(path, encoding):
            out.write(block)
    return target
