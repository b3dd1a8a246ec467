from django.core.files.storage import storages


def private_storage():
    """The storage for advisory artifacts and evidence: never exposed at a URL."""
    return storages["private"]
