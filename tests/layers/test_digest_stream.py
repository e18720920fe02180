"""Hashing while streaming (the issue's "compute diff IDs and compressed digests in the same
pass as writing")."""

import hashlib
import io

from lamina.layers.digest_stream import HashingReader, HashingWriter


def test_writer_hashes_and_counts_what_passes() -> None:
    sink = io.BytesIO()
    writer = HashingWriter(sink)
    writer.write(b"hello ")
    writer.write(memoryview(b"world"))
    assert sink.getvalue() == b"hello world"
    assert writer.size == 11
    assert str(writer.digest()) == "sha256:" + hashlib.sha256(b"hello world").hexdigest()
    writer.close()
    assert not sink.closed


def test_reader_hashes_what_is_read() -> None:
    reader = HashingReader(io.BytesIO(b"x" * 1000), "sha512")
    assert reader.read(10) == b"x" * 10
    assert len(reader.read()) == 990
    assert reader.size == 1000
    assert reader.digest().hex == hashlib.sha512(b"x" * 1000).hexdigest()
