"""Refuse a hostile .xlsx from its zip directory, before anything is inflated.

An .xlsx is a zip archive of XML parts. A few hundred kilobytes can declare
hundreds of megabytes (a "zip bomb": one shared string of 300 MB of the same
letter compresses about 1000:1), and openpyxl holds the shared strings and the
styles whole in memory. `check(path)` reads only the archive's end record and
central directory, a few kilobytes, and returns the Chinese reason for
refusing the file, or None.

The declared sizes bound what can ever be inflated: Python's zipfile stops a
member at its declared size and then fails its CRC check, so a member that
under-declares is cut off and refused as a damaged workbook (tested).

Nested archives (an embedded workbook under xl/embeddings/) are never opened:
openpyxl reads only the workbook's own XML parts. They count toward the
limits on entries and total size, and a workbook made mostly of them is
refused (MAX_NESTED_ARCHIVES).
"""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

from governance.text import t

MiB = 1 << 20

# The limits, measured on a real-shaped province export: 500,000 rows × 12
# columns with a free-text column, written the way Excel writes (shared
# strings; benchmarks/hostile_upload.py --real builds it): 10 parts, 307 MB in
# all; the sheet 239 MB at 6:1, the shared strings 69 MB at 9.5:1 (MB = 2^20
# bytes here). A 300,000-row sheet of nothing but zeros, the most repetitive a
# real export gets, is 15:1.

# Parts in the archive: an export has about 10, plus 2–3 per sheet.
MAX_ENTRIES = 10_000
# The central directory itself (read whole by zipfile): ~100 bytes a part.
MAX_DIRECTORY_BYTES = 8 * MiB
# One worksheet's XML, streamed row by row: 4× the 500,000-row sheet, and more
# than Excel's 1,048,576-row limit writes for 16 plain columns.
MAX_SHEET_PART_BYTES = 1024 * MiB
# Any other part — shared strings, styles, theme — is held whole in memory:
# 3.5× the shared strings of the 500,000-row export.
MAX_OTHER_PART_BYTES = 256 * MiB
# Everything declared, together.
MAX_TOTAL_BYTES = 2048 * MiB
# Inflated : compressed, for a part larger than RATIO_FLOOR_BYTES. Real parts
# are 6–15:1 (XML of varying numbers); repeated bytes reach ~1000:1. Small
# parts may be very repetitive (a styles.xml of identical formats) and cost
# nothing, so they are not judged by ratio.
MAX_RATIO = 100
RATIO_FLOOR_BYTES = 8 * MiB
# Embedded archives (never opened, see above).
MAX_NESTED_ARCHIVES = 16
NESTED_SUFFIXES = (".zip", ".xlsx", ".xlsm", ".xlsb", ".docx", ".pptx", ".gz", ".7z", ".rar")

SHEET_PREFIX = "xl/worksheets/"
# An old-format .xls, and an .xlsx saved with a password, are OLE compound files.
_OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")
_END_RECORD = struct.Struct("<4s4H2LH")
_END_SIGNATURE = b"PK\x05\x06"
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_LOCATOR_SIGNATURE = b"PK\x06\x07"
_ZIP64_RECORD = struct.Struct("<4sQ2H2L4Q")
_ZIP64_SIGNATURE = b"PK\x06\x06"
_MAX_COMMENT = 0xFFFF


def _megabytes(size: int) -> str:
    return f"{size / MiB:,.0f}"


def _part_label(name: str) -> str:
    """What a part is, in words (part names are internal codes)."""
    lowered = name.lower()
    if lowered.startswith(SHEET_PREFIX):
        return t("import.xlsx.part.sheet")
    if lowered.endswith("sharedstrings.xml"):
        return t("import.xlsx.part.shared_strings")
    if lowered.endswith("styles.xml"):
        return t("import.xlsx.part.styles")
    return t("import.xlsx.part.other")


def _directory(path: Path) -> tuple[int, int] | None:
    """(entries, central directory bytes) from the end record; None if the
    file has no readable end record (not a zip)."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        tail_size = min(size, _END_RECORD.size + _MAX_COMMENT)
        handle.seek(size - tail_size)
        tail = handle.read(tail_size)
        at = tail.rfind(_END_SIGNATURE)
        if at < 0 or at + _END_RECORD.size > len(tail):
            return None
        (_, _, _, _, entries, directory_bytes, _, _) = _END_RECORD.unpack_from(tail, at)
        if entries != 0xFFFF and directory_bytes != 0xFFFFFFFF:
            return entries, directory_bytes
        # Zip64: the real counts are in the zip64 end record.
        locator_at = at - _ZIP64_LOCATOR.size
        if locator_at < 0:
            return None
        signature, _, record_offset, _ = _ZIP64_LOCATOR.unpack_from(tail, locator_at)
        if signature != _ZIP64_LOCATOR_SIGNATURE or record_offset > size - _ZIP64_RECORD.size:
            return None
        handle.seek(record_offset)
        record = handle.read(_ZIP64_RECORD.size)
        fields = _ZIP64_RECORD.unpack(record)
        if fields[0] != _ZIP64_SIGNATURE:
            return None
        return fields[7], fields[8]


def check(path: Path) -> str | None:
    """The reason to refuse this .xlsx without inflating it, or None.

    Reads the end record and the central directory only; the reasons are
    Chinese and say what to do.
    """
    path = Path(path)
    with open(path, "rb") as handle:
        if handle.read(len(_OLE_MAGIC)) == _OLE_MAGIC:
            return t("import.xlsx.legacy")
    directory = _directory(path)
    if directory is None:
        return t("import.bad_xlsx")
    entries, directory_bytes = directory
    if entries > MAX_ENTRIES:
        return t("import.xlsx.too_many_parts", count=f"{entries:,}", limit=f"{MAX_ENTRIES:,}")
    if directory_bytes > MAX_DIRECTORY_BYTES:
        return t("import.xlsx.directory_too_large", size=_megabytes(directory_bytes),
                 limit=_megabytes(MAX_DIRECTORY_BYTES))
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return t("import.bad_xlsx")
    if len(infos) > MAX_ENTRIES:
        return t("import.xlsx.too_many_parts", count=f"{len(infos):,}", limit=f"{MAX_ENTRIES:,}")
    nested = sum(1 for info in infos if info.filename.lower().endswith(NESTED_SUFFIXES))
    if nested > MAX_NESTED_ARCHIVES:
        return t("import.xlsx.nested", count=nested, limit=MAX_NESTED_ARCHIVES)
    total = 0
    for info in infos:
        declared = info.file_size
        total += declared
        limit = (MAX_SHEET_PART_BYTES if info.filename.lower().startswith(SHEET_PREFIX)
                 else MAX_OTHER_PART_BYTES)
        if declared > limit:
            return t("import.xlsx.part_too_large", part=_part_label(info.filename),
                     size=_megabytes(declared), limit=_megabytes(limit))
        if declared > RATIO_FLOOR_BYTES and declared > MAX_RATIO * max(info.compress_size, 1):
            return t("import.xlsx.ratio", part=_part_label(info.filename),
                     size=_megabytes(declared),
                     ratio=f"{declared / max(info.compress_size, 1):,.0f}", limit=MAX_RATIO)
    if total > MAX_TOTAL_BYTES:
        return t("import.xlsx.total_too_large", size=_megabytes(total),
                 limit=_megabytes(MAX_TOTAL_BYTES))
    return None
