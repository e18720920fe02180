"""Layer compression: detect it, and open streaming readers and writers for it.

Readers are bounded so a hostile layer cannot fill the disk: a gzip or zstd
"bomb" (a small blob that expands to an enormous stream) is stopped with
`HostileLayer` once it expands past an absolute size or past a ratio.

Why these defaults never bother a real image:
- ``max_bytes`` (256 GiB) is far above the largest layers seen in practice
  (CUDA/ML images ship single layers of a few tens of GiB).
- ``max_ratio`` (250) is only checked once ``ratio_grace`` (1 GiB) of output
  has been produced. Real layers compress 2-5x overall; even a layer holding
  a large zero-filled file rarely averages more than 250x over its first GiB.
  Deflate itself cannot exceed ~1032x, so a gzip bomb is caught after at most
  ~1 GiB of output; zstd can reach ratios in the millions, so it is caught too.
"""

from __future__ import annotations

import abc
import io
import sys
from typing import BinaryIO, Final, cast

from lamina.errors import HostileLayer

GZIP: Final = "gzip"
ZSTD: Final = "zstd"
NONE: Final = "none"
COMPRESSIONS: Final = (GZIP, ZSTD, NONE)

GIB: Final = 1 << 30
DEFAULT_MAX_BYTES: Final = 256 * GIB
DEFAULT_MAX_RATIO: Final = 250
DEFAULT_RATIO_GRACE: Final = GIB

_GZIP_MAGIC: Final = b"\x1f\x8b"
_ZSTD_MAGIC: Final = b"\x28\xb5\x2f\xfd"
_CHUNK: Final = 1 << 20
# isal implements gzip levels 0..3; 2 is its default and beats zlib -6 on speed.
_GZIP_LEVELS: Final = range(0, 4)
_GZIP_DEFAULT_LEVEL: Final = 2
_ZSTD_DEFAULT_LEVEL: Final = 3


def detect(head: bytes) -> str:
    """'gzip', 'zstd' or 'none' from the first bytes of a blob (its magic number)."""
    if head.startswith(_GZIP_MAGIC):
        return GZIP
    if head.startswith(_ZSTD_MAGIC):
        return ZSTD
    return NONE


def _check_name(compression: str) -> None:
    if compression not in COMPRESSIONS:
        raise ValueError(
            f"unknown compression {compression!r}: expected one of {', '.join(COMPRESSIONS)}"
        )


class _Relay(io.RawIOBase):
    """Reads of ``_inner`` passed through, each one's length told to ``_account``."""

    _inner: BinaryIO

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._inner.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self._account(n)
        return n

    @abc.abstractmethod
    def _account(self, n: int) -> None:
        """Take note of ``n`` bytes just read (each subclass counts or bounds them)."""


class _CountingReader(_Relay):
    """Counts bytes read from the compressed source, to measure the expansion ratio."""

    def __init__(self, src: BinaryIO) -> None:
        self._inner = src
        self.count = 0

    def _account(self, n: int) -> None:
        self.count += n


class BoundedReader(_Relay):
    """Decompressed bytes of a layer, refused once they grow past the bounds."""

    def __init__(self, decompressed: BinaryIO, source: _CountingReader | None, *,
                 max_bytes: int, max_ratio: int, ratio_grace: int) -> None:
        self._inner = decompressed
        self._source = source
        self._max_bytes = max_bytes
        self._max_ratio = max_ratio
        self._ratio_grace = ratio_grace
        self.produced = 0

    def read(self, size: int | None = -1) -> bytes:
        # Skip RawIOBase's readinto round trip: tarfile reads through here a lot.
        data = self._inner.read(size if size is not None and size >= 0 else -1)
        self._account(len(data))
        return data

    def _account(self, n: int) -> None:
        self.produced += n
        if self.produced > self._max_bytes:
            raise HostileLayer(
                f"layer expands past {self._max_bytes} bytes when decompressed"
                " (decompressed size limit; a compression bomb?)"
            )
        if self._source is not None and self.produced > self._ratio_grace:
            consumed = max(self._source.count, 1)
            if self.produced > consumed * self._max_ratio:
                raise HostileLayer(
                    f"layer expands more than {self._max_ratio}x when decompressed"
                    f" ({consumed} compressed bytes gave {self.produced}); refusing a"
                    " compression bomb"
                )

    def close(self) -> None:
        if not self.closed:
            self._inner.close()
        super().close()


def decompress_errors() -> tuple[type[BaseException], ...]:
    """What a reader of ``open_reader`` raises on bad compressed data."""
    zstd = sys.modules.get("zstandard")  # not loaded: no zstd stream was read
    return (OSError, EOFError, *((zstd.ZstdError,) if zstd is not None else ()))


def open_reader(src: BinaryIO, compression: str | None = None, *,
                max_ratio: int = DEFAULT_MAX_RATIO, max_bytes: int = DEFAULT_MAX_BYTES,
                ratio_grace: int = DEFAULT_RATIO_GRACE, read_ahead: bool = True) -> BinaryIO:
    """A stream of the decompressed bytes of ``src`` (detected when ``compression`` is None).

    ``read_ahead=False`` inflates gzip in the caller's thread, only as far as it reads:
    for a reader that stops early (a few members by offset), where the background
    thread would inflate, and read, megabytes it never wants.
    Closing the returned reader does not close ``src``.
    """
    if compression is None:
        # Our own buffer: its first peek reads up to 1 MiB, so the magic is complete
        # unless the stream is shorter (a caller's buffer may hold only a few bytes).
        buffered = io.BufferedReader(cast(io.RawIOBase, _Passthrough(src)), _CHUNK)
        compression = detect(buffered.peek(4)[:4])
        src = cast(BinaryIO, buffered)
    _check_name(compression)
    if compression == NONE:
        # Plain tars cannot be bombs; only the absolute bound applies.
        bounded = BoundedReader(cast(BinaryIO, _NonClosing(src)), None, max_bytes=max_bytes,
                                max_ratio=max_ratio, ratio_grace=ratio_grace)
        return cast(BinaryIO, bounded)
    counter = _CountingReader(src)
    counted = cast(BinaryIO, io.BufferedReader(counter, _CHUNK))
    inner: BinaryIO
    # The codecs load on first use: a command reading plain tars (docker archives,
    # stored indexes) does not pay ~30 ms for importing them.
    if compression == GZIP and not read_ahead:
        from isal import igzip

        inner = cast(BinaryIO, igzip.open(counted, "rb"))  # type: ignore[no-untyped-call]
    elif compression == GZIP:
        from isal import igzip_threaded

        # One background thread inflates ahead while the caller works on the tar.
        inner = cast(BinaryIO, igzip_threaded.open(  # type: ignore[no-untyped-call]
            counted, "rb", threads=1))
    else:
        import zstandard

        inner = cast(BinaryIO, zstandard.ZstdDecompressor().stream_reader(
            counted, read_size=_CHUNK, read_across_frames=True, closefd=False))
    return cast(BinaryIO, BoundedReader(inner, counter, max_bytes=max_bytes,
                                        max_ratio=max_ratio, ratio_grace=ratio_grace))


class _Passthrough(io.RawIOBase):
    """A raw view of any readable stream, so it can be buffered and peeked."""

    def __init__(self, src: BinaryIO) -> None:
        self._src = src

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._src.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        # The caller owns the source; we only stop using it.
        super().close()


class _NonClosing(io.RawIOBase):
    """Reads through to ``src`` and leaves it open on close."""

    def __init__(self, src: BinaryIO) -> None:
        self._src = src

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        return self._src.read(-1 if size is None else size)

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._src.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class _NonClosingWriter(io.RawIOBase):
    """Writes through to ``dst`` and leaves it open on close (compressors close theirs)."""

    def __init__(self, dst: BinaryIO) -> None:
        self._dst = dst

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        self._dst.write(data)
        return len(data)

    def flush(self) -> None:
        self._dst.flush()


def open_writer(dst: BinaryIO, compression: str, *, level: int | None = None,
                reproducible: bool = False) -> BinaryIO:
    """A stream that compresses what is written to it into ``dst``.

    Closing it finishes the compressed stream but leaves ``dst`` open. gzip
    levels are isal's 0..3; zstd levels are 1..22. Our gzip header always has
    mtime 0 and no file name, so output never depends on when or where it was
    written; ``reproducible`` is accepted for symmetry with the other writers.
    """
    del reproducible  # every writer here is deterministic already
    _check_name(compression)
    sink = _NonClosingWriter(dst)
    if compression == NONE:
        return cast(BinaryIO, sink)
    if compression == GZIP:
        chosen = _GZIP_DEFAULT_LEVEL if level is None else level
        if chosen not in _GZIP_LEVELS:
            raise ValueError(f"gzip level must be 0..3 (isal), got {chosen}")
        from isal import igzip_threaded

        return cast(BinaryIO, igzip_threaded.open(  # type: ignore[no-untyped-call]
            sink, "wb", compresslevel=chosen, threads=1))
    chosen = _ZSTD_DEFAULT_LEVEL if level is None else level
    if not 1 <= chosen <= 22:
        raise ValueError(f"zstd level must be 1..22, got {chosen}")
    import zstandard

    compressor = zstandard.ZstdCompressor(level=chosen)
    return cast(BinaryIO, compressor.stream_writer(cast(BinaryIO, sink), closefd=False))
