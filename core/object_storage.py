"""Private files on S3-compatible object storage (production option; see docs/deploy.md)."""

from storages.backends.s3 import S3Storage


class PrivateS3Storage(S3Storage):
    """Artifacts and evidence in a bucket: every object private, never overwritten, and never a URL. Downloads
    stream through the authorised views like local files do, so no signed link can be forwarded."""

    default_acl = "private"
    querystring_auth = True
    file_overwrite = False

    def __init__(self, **settings):
        super().__init__(**settings)
        # Whatever the options say, objects stay private.
        self.default_acl = "private"
        self.querystring_auth = True

    def url(self, name, parameters=None, expire=None, http_method=None):
        raise NotImplementedError("Private files have no URL; serve them through an authorised view.")
