"""Private storages that fail as a full or a read-only disk does, for the storage-error tests."""

import errno

from core.storage import PrivateFileSystemStorage

WRITTEN_BEFORE_FULL = 64 * 1024


class _FillsUp:
    """File content whose chunks run out of disk space once `free_bytes` have been written."""

    def __init__(self, content, free_bytes):
        self.content = content
        self.free_bytes = free_bytes

    def chunks(self, chunk_size=None):
        written = 0
        for chunk in self.content.chunks():
            for start in range(0, len(chunk), WRITTEN_BEFORE_FULL):
                if written >= self.free_bytes:
                    raise OSError(errno.ENOSPC, "No space left on device")
                piece = chunk[start : start + WRITTEN_BEFORE_FULL]
                written += len(piece)
                yield piece


class FullDiskStorage(PrivateFileSystemStorage):
    """The real local storage, on a disk that fills up in the middle of a write (a partial file is on disk when
    the error comes)."""

    free_bytes = WRITTEN_BEFORE_FULL

    def _save(self, name, content):
        return super()._save(name, _FillsUp(content, self.free_bytes))


class NoSpaceLeftStorage(FullDiskStorage):
    """The real local storage on a disk with no space left at all."""

    free_bytes = 0


class ReadOnlyDiskStorage(PrivateFileSystemStorage):
    """The real local storage, on a file system mounted read-only: nothing can be created."""

    def _save(self, name, content):
        raise OSError(errno.EROFS, "Read-only file system", self.path(name))
