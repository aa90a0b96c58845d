"""Plain-text books that are not what their name says: other Unicode encodings with a byte order
mark, executables and binary data named .txt, files too large to read, gzip bombs."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import pyarrow.fs as pafs
import pytest

from spark_jobs.licensed.reader import LicensedReader
from spark_jobs.sources import Source

BOOK = "A Tale of Two Files\n\nIt was the best of bytes, it was the worst of bytes. Ünïcödé ✓\n"


def read(root: Path, name: str, fs: pafs.FileSystem | None = None, **options) -> dict:
    source = Source("books", "licensed", str(root), "text", "PublicDomain", options=options)
    fs = fs or pafs.LocalFileSystem()
    [row] = LicensedReader().read(fs, str(root / name), name, source)
    return row


@pytest.mark.parametrize(
    ("mark", "codec"),
    [
        (b"\xff\xfe", "utf-16-le"),
        (b"\xfe\xff", "utf-16-be"),
        (b"\xff\xfe\x00\x00", "utf-32-le"),
        (b"\x00\x00\xfe\xff", "utf-32-be"),
        (b"\xef\xbb\xbf", "utf-8"),
    ],
)
def test_a_book_with_a_byte_order_mark_is_decoded(tmp_path: Path, mark: bytes, codec) -> None:
    (tmp_path / "book.txt").write_bytes(mark + BOOK.encode(codec))
    row = read(tmp_path, "book.txt", encoding="latin-1")  # the mark wins over the option
    assert row.get("disposition", "kept") == "kept", row.get("detail")
    assert row["title"] == "A Tale of Two Files" and row["text"] == BOOK.strip()


def test_a_utf16_book_without_a_mark_is_binary_not_a_book(tmp_path: Path) -> None:
    ascii_book = "A Tale\n\nPlain ASCII prose, every other byte NUL in UTF-16.\n" * 20
    (tmp_path / "book.txt").write_bytes(ascii_book.encode("utf-16-le"))  # valid UTF-8 too
    row = read(tmp_path, "book.txt")
    assert row["disposition"] == "quarantined" and row["reason"] == "binary"


def elf() -> bytes:
    """The first bytes of a real x86-64 ELF executable header, then padding."""
    return b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + b"\x02\x00\x3e\x00" + b"\x00" * 4000


def pe() -> bytes:
    stub = bytearray(b"MZ" + b"\x90" * 0x7E)
    stub[0x3C:0x40] = (0x80).to_bytes(4, "little")
    return bytes(stub) + b"PE\x00\x00" + b"\x4c\x01" + b"Text after the header " * 50


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (elf(), "ELF"),
        (pe(), "PE"),
        (b"\xcf\xfa\xed\xfe" + b"\x07\x00\x00\x01" + b"A" * 1000, "Mach-O"),
    ],
)
def test_an_executable_named_txt_is_binary(tmp_path: Path, data: bytes, kind: str) -> None:
    (tmp_path / "book.txt").write_bytes(data)
    row = read(tmp_path, "book.txt", encoding="latin-1")  # would decode anything
    assert row["disposition"] == "quarantined" and row["reason"] == "binary"
    assert kind in row["detail"]


def test_valid_utf8_that_is_mostly_control_bytes_is_binary(tmp_path: Path) -> None:
    data = bytes(range(0, 32)) * 200 + b"a few words of text"
    data.decode("utf-8")  # valid UTF-8 all the same
    (tmp_path / "book.txt").write_bytes(data)
    row = read(tmp_path, "book.txt")
    assert row["disposition"] == "quarantined" and row["reason"] == "binary"
    assert "control" in row["detail"]


def test_a_book_with_form_feeds_and_tabs_is_still_a_book(tmp_path: Path) -> None:
    (tmp_path / "book.txt").write_text("Title\n\n\tChapter 1\x0c\n" + "Some prose. " * 500)
    assert read(tmp_path, "book.txt").get("disposition", "kept") == "kept"


class NoReading(pafs.PyFileSystem):
    """A file system that knows sizes but refuses to open anything."""

    def __init__(self) -> None:
        super().__init__(pafs.FSSpecHandler(_NoReadingFs()))


class _NoReadingFs:
    """Just enough of fsspec's interface for get_file_info and a refused open."""

    def info(self, path: str) -> dict:
        return {"name": path, "size": 10 * 2**30, "type": "file"}

    def open(self, path: str, mode: str = "rb", **kwargs):
        raise AssertionError(f"{path} was opened")


def test_an_oversized_book_is_refused_from_its_size_without_reading_it(tmp_path: Path) -> None:
    big = tmp_path / "huge.txt"
    with big.open("wb") as sparse:  # 3 GB on paper, nothing on disk
        sparse.truncate(3 * 10**9)
    row = read(tmp_path, "huge.txt", fs=NoReading())
    assert row["reason"] == "file_too_large" and str(10 * 2**30) in row["detail"]
    assert read(tmp_path, "huge.txt")["reason"] == "file_too_large"


def test_a_gzipped_book_stops_at_the_limit(tmp_path: Path) -> None:
    # 40 kB on disk, 40 MB decompressed.
    (tmp_path / "bomb.txt.gz").write_bytes(gzip.compress(b"all work and no play " * 2_000_000))
    row = read(tmp_path, "bomb.txt.gz", max_file_bytes=2**20)
    assert row["reason"] == "file_too_large" and "decompresses" in row["detail"]
    row = read(tmp_path, "bomb.txt.gz", limits={"max_decompressed_bytes": 2**20})
    assert row["reason"] == "decompression_bomb"


def test_a_truncated_gzipped_book_is_corrupt(tmp_path: Path) -> None:
    compressor = zlib.compressobj(wbits=31)
    data = compressor.compress(BOOK.encode() * 100) + compressor.flush()
    (tmp_path / "cut.txt.gz").write_bytes(data[: len(data) // 2])
    row = read(tmp_path, "cut.txt.gz")
    assert row["reason"] == "corrupt_archive" and row["excerpt"].startswith(b"\x1f\x8b")
