"""The kinds of layer member, as the tar reader and the layer index name them.

Apart from :mod:`lamina.layers.tarstream` so that code reading only layer indexes
(``lamina diff``, analysis of stored images) does not import tarfile, shutil, bz2
and lzma at start-up.
"""

from __future__ import annotations

from typing import Final

FILE: Final = "file"
DIR: Final = "dir"
SYMLINK: Final = "symlink"
HARDLINK: Final = "hardlink"
CHAR: Final = "char"
BLOCK: Final = "block"
FIFO: Final = "fifo"
