from django.core.files.storage import FileSystemStorage, storages


class PrivateFileSystemStorage(FileSystemStorage):
    """Local storage for files that no URL may ever serve: asking for a URL is a programming error."""

    def url(self, name):
        raise NotImplementedError("Private files have no URL; serve them through an authorised view.")


def private_storage():
    """The storage for advisory artifacts and evidence: never exposed at a URL."""
    return storages["private"]
