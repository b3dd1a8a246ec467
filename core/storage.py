import os
from pathlib import Path

from django.core.files.storage import FileSystemStorage, storages


class PrivateFileSystemStorage(FileSystemStorage):
    """Local storage for files that no URL may ever serve: asking for a URL is a programming error. A write that
    fails (a full or read-only disk) leaves no partial file behind."""

    def _save(self, name, content):
        path = Path(self.path(name))
        existed = os.path.lexists(path)
        try:
            return super()._save(name, content)
        except OSError:
            if not existed:  # never remove a file this write did not create
                path.unlink(missing_ok=True)
            raise

    def url(self, name):
        raise NotImplementedError("Private files have no URL; serve them through an authorised view.")


def private_storage():
    """The storage for advisory artifacts and evidence: never exposed at a URL."""
    return storages["private"]
