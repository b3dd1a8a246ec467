"""The CSAF provider directory under /.well-known/csaf/ (advisories/csaf/provider.py has the layout)."""

from django.urls import path, register_converter

from advisories.csaf import views

app_name = "csaf_provider"


class LabelConverter:
    regex = "white|green|amber|red"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


class YearConverter:
    regex = "[0-9]{4}"

    def to_python(self, value):
        return int(value)

    def to_url(self, value):
        return f"{int(value):04d}"


class DocumentFileConverter:
    """A CSAF file name (section 5.1) of a Forewarn advisory: fwn-yyyy-nnnn.json."""

    regex = "fwn-[0-9]{4}-[0-9]{4,}\\.json"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


class FingerprintConverter:
    regex = "[0-9A-F]{40,64}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(LabelConverter, "csaf_label")
register_converter(YearConverter, "csaf_year")
register_converter(DocumentFileConverter, "csaf_file")
register_converter(FingerprintConverter, "openpgp_fingerprint")

DOCUMENT = "<csaf_label:label>/<csaf_year:year>/<csaf_file:filename>"

urlpatterns = [
    path("provider-metadata.json", views.ProviderMetadataView.as_view(), name="metadata"),
    path("openpgp/<openpgp_fingerprint:fingerprint>.asc", views.PublicKeyView.as_view(), name="public_key"),
    path("service.json", views.ServiceDocumentView.as_view(), name="service"),
    path("csaf-feed-tlp-<csaf_label:label>.json", views.FeedView.as_view(), name="feed"),
    path("<csaf_label:label>/", views.FolderView.as_view(), name="folder"),
    path("<csaf_label:label>/index.txt", views.IndexView.as_view(), name="index"),
    path("<csaf_label:label>/changes.csv", views.ChangesView.as_view(), name="changes"),
    path("<csaf_label:label>/<csaf_year:year>/", views.FolderView.as_view(), name="year_folder"),
    path(DOCUMENT, views.DocumentView.as_view(), name="document"),
    path(f"{DOCUMENT}.sha256", views.DocumentView.as_view(suffix=".sha256"), name="document_sha256"),
    path(f"{DOCUMENT}.sha512", views.DocumentView.as_view(suffix=".sha512"), name="document_sha512"),
    path(f"{DOCUMENT}.asc", views.DocumentView.as_view(suffix=".asc"), name="document_signature"),
]
