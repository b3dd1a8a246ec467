"""The CSAF provider directory over HTTP (docs/csaf-provider.md). Thin views: `provider` decides what a reader sees,
`serving` builds and records each copy.

Authentication is the partner API's: `Authorization: Bearer <token>` (or `Token <token>`); a browser session is
not a credential here. Without a token the reader is the public: the metadata, the public key, the service
document and the TLP:WHITE folder and feed, holding the public TLP:CLEAR advisories. The other folders and feeds
answer 401 without a token, 403 to a token whose organisation has no access at the moment. A refused token is 401
everywhere, as in the API, so that a mirror notices rather than silently falling back to the public view. A
document the reader does not hold is 404, whatever the reason.
"""

import hashlib
import json

from django.http import Http404, HttpResponse
from django.shortcuts import render
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, permissions

from advisories import serving
from advisories.api.permissions import READING_SCOPES
from advisories.api.views import IgnoreAcceptHeader, PartnerApiView
from advisories.csaf import provider, signing
from compliance.entitlements import PartnerAccess
from core.levels import AccessLevel


class ProviderReader(permissions.BasePermission):
    """Anybody may read the directory; a token must be usable for reading (its scopes) to act for its
    organisation."""

    def has_permission(self, request, view):
        access = request.auth
        if access is None:
            return True
        return (
            isinstance(access, PartnerAccess)
            and access.api_token is not None
            and (access.api_token.scope in READING_SCOPES)
        )


def _reader(request, label: str | None = None) -> PartnerAccess | None:
    """The organisation the request acts for, or None for the public. The folders other than the public ones need
    an organisation with access."""
    access = request.auth
    if access is not None and access.level == AccessLevel.NONE:
        access = None
        if label is not None and label not in provider.PUBLIC_LABELS:
            raise exceptions.PermissionDenied("Your organisation has no access to advisories at the moment.")
    if access is None and label is not None and label not in provider.PUBLIC_LABELS:
        raise exceptions.NotAuthenticated(
            f"TLP:{label.upper()} documents are for partner organisations: send Authorization: Bearer <token>."
        )
    return access


def _file(content: bytes | str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    # The same URL answers each reader its own copy.
    response["Vary"] = "Authorization"
    return response


def _json(document: dict) -> HttpResponse:
    return _file(json.dumps(document, indent=2, ensure_ascii=False) + "\n", "application/json")


class ProviderView(PartnerApiView):
    permission_classes = [ProviderReader]
    content_negotiation_class = IgnoreAcceptHeader

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        return self.answer(request, *args, **kwargs)


class ProviderMetadataView(ProviderView):
    def answer(self, request):
        return _json(provider.provider_metadata())


class PublicKeyView(ProviderView):
    def answer(self, request, fingerprint):
        if not signing.is_configured() or fingerprint != signing.fingerprint():
            raise Http404("No such key.")
        return _file(signing.armoured_public_key(), "application/pgp-keys")


class ServiceDocumentView(ProviderView):
    def answer(self, request):
        return _json(provider.service_document())


class FeedView(ProviderView):
    def answer(self, request, label):
        return _json(provider.rolie_feed(_reader(request, label), label))


class IndexView(ProviderView):
    def answer(self, request, label):
        return _file(provider.index_txt(_reader(request, label), label), "text/plain; charset=utf-8")


class ChangesView(ProviderView):
    def answer(self, request, label):
        return _file(provider.changes_csv(_reader(request, label), label), "text/csv; charset=utf-8")


class FolderView(ProviderView):
    """Directory listings (requirement 14): the label folder's years and files, or one year's documents."""

    def answer(self, request, label, year=None):
        found = provider.entries(_reader(request, label), label)
        if year is None:
            names = ["index.txt", "changes.csv", *sorted({f"{entry.year}/" for entry in found}, reverse=True)]
        else:
            names = [
                f"{entry.filename}{suffix}"
                for entry in sorted(found, key=lambda e: e.filename)
                if entry.year == year
                for suffix in ("", ".asc", ".sha256", ".sha512")
            ]
            if not names:
                raise Http404("No such folder.")
        response = render(
            request._request, "csaf/folder.html", {"path": request.path, "names": names, "parent": year is not None}
        )
        response["Vary"] = "Authorization"
        return response


class DocumentView(ProviderView):
    """A document (its export recorded for an organisation), or its hash or signature files (not recorded: they
    carry no content). Every one is computed from the same bytes, so they agree."""

    suffix = ""

    def answer(self, request, label, year, filename):
        access = _reader(request, label)
        identifier = filename.removesuffix(".json").upper()
        if access is None:
            document = serving.public_csaf_file(identifier=identifier, label=label, year=year)
        else:
            document = serving.partner_csaf_file(
                request=request, access=access, identifier=identifier, label=label, year=year, record=not self.suffix
            )
        if document.filename != filename:
            raise Http404("No such document.")
        if self.suffix == ".sha256":
            return _file(f"{hashlib.sha256(document.content).hexdigest()}  {filename}\n", "text/plain")
        if self.suffix == ".sha512":
            return _file(f"{hashlib.sha512(document.content).hexdigest()}  {filename}\n", "text/plain")
        if self.suffix == ".asc":
            if not signing.is_configured():
                raise Http404("Documents are not signed on this server.")
            return _file(signing.detached_signature(document.content), "application/pgp-signature")
        return _file(document.content, "application/json")
