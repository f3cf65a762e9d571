"""Compressed tables: the suffixes that make pandas decompress a CSV, the errors a damaged archive raises, a whole
zstd file, and the hint for a compressed file (or a workbook) whose name does not say what it is."""

from __future__ import annotations

import pathlib

from keras_ae.errors import UsageError

COMPRESSED_SUFFIXES = (".gz", ".bz2", ".zip", ".xz", ".zst")


def decompression_errors() -> tuple[type[BaseException], ...]:
    """What reading a truncated or corrupt compressed file (gzip, bz2, xz, zip, tar, zstd) can raise."""
    import lzma
    import tarfile
    import zipfile
    import zlib

    import zstandard

    return OSError, EOFError, zlib.error, lzma.LZMAError, tarfile.TarError, zipfile.BadZipFile, zstandard.ZstdError


# the first bytes of each compressed format pandas reads, and the name that tells pandas to decompress it
_MAGIC = {b"\x1f\x8b": (".gz", "gzip"), b"BZh": (".bz2", "bzip2"), b"\xfd7zXZ\x00": (".xz", "xz"),
          b"PK\x03\x04": (".zip", "zip"), b"\x28\xb5\x2f\xfd": (".zst", "zstd")}


def compressed_hint(path: str | pathlib.Path) -> str:
    """'; it is compressed (gzip...): name it x.csv.gz' for a file whose first bytes are those of a compressed
    format its name does not end in (pandas decompresses by the name), else ''."""
    path = pathlib.Path(path)
    try:
        with open(path, "rb") as handle:
            start = handle.read(8)
    except OSError:
        return ""
    if path.name.lower().endswith((*COMPRESSED_SUFFIXES, ".tgz", ".tbz2", ".txz", ".tar")):
        return ""  # its name says it is compressed
    if start.startswith(b"PK\x03\x04") and (path.suffix.lower() in _OFFICE or _office_inside(path)):
        return "; it is a workbook or document (a zip archive of XML), not a CSV: export it as CSV"
    for magic, (suffix, kind) in _MAGIC.items():
        if start.startswith(magic):
            return f"; its bytes are {kind}-compressed, which its name does not say: name it {path.name}{suffix}"
    return ""


def _office_inside(path: pathlib.Path) -> bool:
    """The zip archive at `path` holds an Office Open XML or OpenDocument file (what .xlsx, .ods, ... are)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (OSError, zipfile.BadZipFile):
        return False
    return "[Content_Types].xml" in names or "mimetype" in names


_OFFICE = (".xlsx", ".xlsm", ".xls", ".ods", ".docx", ".odt", ".pptx", ".odp", ".numbers")  # zip archives inside


def check_whole_zstd(path: pathlib.Path) -> None:
    """A UsageError when a .zst file is cut short or damaged: its reader would end quietly at the last whole block,
    and the rows after it would never be read. Decompressed once, a little at a time, the output thrown away."""
    if path.suffix.lower() != ".zst":
        return
    import zstandard

    context = zstandard.ZstdDecompressor()
    frame, open_frame = context.decompressobj(), False
    try:
        with open(path, "rb") as f:
            while block := f.read(1 << 12):  # small reads: a highly compressed block stays a modest output
                while block:
                    frame.decompress(block)
                    open_frame = not frame.eof
                    # a frame ended: what follows it is the next frame (files joined with cat hold several)
                    block, frame = (frame.unused_data, context.decompressobj()) if frame.eof else (b"", frame)
    except zstandard.ZstdError as err:
        raise UsageError(f"{path}: not a whole zstd file ({err})") from None
    if open_frame:
        raise UsageError(f"{path}: the zstd file is cut short (its last frame ends early); rows after that point "
                         "would be missing")
