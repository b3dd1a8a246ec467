from datetime import UTC, datetime

from django.urls import reverse
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from advisories.models import TLP, Advisory, AdvisoryDocument, AdvisoryStatus, Artifact, Severity
from core.levels import AccessLevel
from core.markdown import render_markdown

# ASCII digits only: the same meaning in Python and in the schema's (ECMAScript) regular expressions.
CVE_REGEX = r"^CVE-[0-9]{4}-[0-9]{4,}$"
IDENTIFIER_REGEX = r"^FWN-[0-9]{4}-[0-9]{4,}$"
NO_NUL_REGEX = r"^[^\x00]*$"


@extend_schema_field(OpenApiTypes.DATETIME)
class InstantField(serializers.Field):
    """An RFC 3339 date-time with its UTC offset (a time without one would be ambiguous). Instants that fall outside
    the years 1-9999 once in UTC mean "since the beginning" or "nothing yet", never an error."""

    default_error_messages = {
        "invalid": "Give an ISO 8601 date-time with its offset, e.g. 2026-11-25T08:00:00Z.",
    }

    def to_internal_value(self, value):
        try:
            parsed = parse_datetime(value) if isinstance(value, str) else None
        except ValueError:
            parsed = None
        if parsed is None or parsed.tzinfo is None:
            self.fail("invalid")
        try:
            return parsed.astimezone(UTC)
        except OverflowError:
            return datetime.min.replace(tzinfo=UTC) if parsed.year == 1 else datetime.max.replace(tzinfo=UTC)

    def to_representation(self, value):
        return value.isoformat()


class AdvisoryFilterSerializer(serializers.Serializer):
    """Query parameters of the advisory list."""

    updated_since = InstantField(
        required=False,
        help_text="Only advisories whose copy for your organisation changed at or after this instant (ISO 8601; "
        "pass the largest `changed_at` you stored at your last sync).",
    )
    product = serializers.RegexField(
        NO_NUL_REGEX, required=False, max_length=200, help_text="Affected product (case-insensitive substring)."
    )
    cve = serializers.RegexField(CVE_REGEX, required=False, max_length=30, help_text="A CVE id, e.g. CVE-2026-12345.")
    severity = serializers.ChoiceField(choices=Severity.choices, required=False, help_text="CVSS v3.1 severity.")


def _level_label(level: int) -> str:
    return AccessLevel(level).label


class AdvisorySummarySerializer(serializers.ModelSerializer):
    tlp = serializers.ChoiceField(choices=TLP.choices)
    status = serializers.ChoiceField(choices=AdvisoryStatus.choices)
    severity = serializers.ChoiceField(choices=Severity.choices, allow_null=True, read_only=True)
    cve_ids = serializers.ListField(child=serializers.CharField())
    affected_products = serializers.ListField(child=serializers.CharField(), source="product_names")
    cvss_score = serializers.DecimalField(max_digits=3, decimal_places=1, allow_null=True, coerce_to_string=False)
    delivered_at = serializers.DateTimeField(help_text="When your organisation last received content of it.")
    changed_at = serializers.DateTimeField(help_text="When your organisation's copy last changed (for sync).")
    url = serializers.SerializerMethodField()
    csaf_url = serializers.SerializerMethodField()

    class Meta:
        model = Advisory
        fields = [
            "identifier",
            "title",
            "cve_ids",
            "affected_products",
            "cvss_vector",
            "cvss_score",
            "severity",
            "tlp",
            "status",
            "public_release_at",
            "delivered_at",
            "changed_at",
            "url",
            "csaf_url",
        ]
        read_only_fields = fields

    def get_url(self, advisory) -> str:
        return self.context["request"].build_absolute_uri(reverse("api:advisory", args=[advisory.identifier]))

    def get_csaf_url(self, advisory) -> str:
        return self.context["request"].build_absolute_uri(reverse("api:csaf", args=[advisory.identifier]))


class DocumentSerializer(serializers.ModelSerializer):
    level = serializers.SerializerMethodField()
    body_html = serializers.SerializerMethodField(help_text="The Markdown body rendered and sanitised.")

    class Meta:
        model = AdvisoryDocument
        fields = ["level", "title", "body_markdown", "body_html", "updated_at"]
        read_only_fields = fields

    def get_level(self, document) -> str:
        return _level_label(document.level)

    def get_body_html(self, document) -> str:
        return str(render_markdown(document.body_markdown))


class ArtifactSerializer(serializers.ModelSerializer):
    level = serializers.SerializerMethodField()
    sha256 = serializers.CharField(help_text="SHA-256 of the file before personalisation.")
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Artifact
        fields = ["id", "name", "description", "level", "content_type", "size", "sha256", "download_url"]
        read_only_fields = fields

    def get_level(self, artifact) -> str:
        return _level_label(artifact.level)

    def get_download_url(self, artifact) -> str:
        return self.context["request"].build_absolute_uri(
            reverse("api:artifact", args=[artifact.advisory.identifier, artifact.pk])
        )


class AdvisoryDetailSerializer(AdvisorySummarySerializer):
    documents = serializers.SerializerMethodField(help_text="Your copies of the descriptions up to your level.")
    artifacts = ArtifactSerializer(many=True, read_only=True)
    issued_to = serializers.SerializerMethodField(help_text="Personalisation: this copy is issued to you; recorded.")

    class Meta(AdvisorySummarySerializer.Meta):
        fields = [*AdvisorySummarySerializer.Meta.fields, "issued_to", "documents", "artifacts"]
        read_only_fields = fields

    def get_issued_to(self, advisory) -> str:
        return self.context["banner"]

    @extend_schema_field(DocumentSerializer(many=True))
    def get_documents(self, advisory):
        # The personalised (fingerprinted) copies served for this request, not the stored texts.
        return DocumentSerializer(self.context["documents"], many=True, context=self.context).data


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
