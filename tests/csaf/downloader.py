"""A CSAF 2.0 downloader for the tests, doing what a standard one does (CSAF 2.0 section 7.3, gocsaf's
csaf_downloader): find provider-metadata.json at the well-known URL, load the OpenPGP keys it lists (checking their
fingerprints), read every ROLIE feed, and for each entry fetch the document, its SHA-256 and SHA-512 files and its
signature, and check them all before keeping the document. It speaks real HTTP (urllib), sends the same headers on
every request (`Authorization: Bearer <token>` for an organisation), refuses redirects (requirement 6), and records
every request it made."""

import hashlib
import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from pysequoia import Cert, Sig, verify

from advisories import csaf

WELL_KNOWN = "/.well-known/csaf/provider-metadata.json"


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        raise AssertionError(f"{req.full_url} redirects to {newurl} (CSAF requirement 6)")


class CheckFailed(AssertionError):
    pass


@dataclass
class Mirror:
    documents: dict[str, dict] = field(default_factory=dict)  # tracking id -> document
    raw: dict[str, bytes] = field(default_factory=dict)  # tracking id -> bytes as served
    urls: dict[str, str] = field(default_factory=dict)  # tracking id -> document URL
    refused_feeds: dict[str, int] = field(default_factory=dict)  # TLP label -> HTTP status
    requests: list[tuple[str, int]] = field(default_factory=list)


class CsafDownloader:
    def __init__(self, base_url: str, token: str | None = None):
        self.base_url = base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.opener = urllib.request.build_opener(NoRedirects)
        self.mirror = Mirror()

    def get(self, url: str) -> tuple[int, bytes, str]:
        assert urlsplit(url).netloc == urlsplit(self.base_url).netloc, f"{url} is not on the provider's host"
        assert urlsplit(url).scheme in ("http", "https"), url
        request = urllib.request.Request(url, headers=self.headers)  # noqa: S310 - scheme checked above
        try:
            with self.opener.open(request, timeout=30) as response:  # noqa: S310 - scheme checked above
                status, body, content_type = response.status, response.read(), response.headers.get("Content-Type")
        except urllib.error.HTTPError as error:
            status, body, content_type = error.code, error.read(), error.headers.get("Content-Type")
        self.mirror.requests.append((url, status))
        return status, body, content_type or ""

    def get_ok(self, url: str) -> tuple[bytes, str]:
        status, body, content_type = self.get(url)
        if status != 200:
            raise CheckFailed(f"GET {url}: {status} {body[:200]!r}")
        return body, content_type

    def metadata(self) -> dict:
        body, content_type = self.get_ok(self.base_url + WELL_KNOWN)
        assert content_type.startswith("application/json")
        return json.loads(body)

    def keys(self, metadata: dict) -> list[Cert]:
        keys = []
        for listed in metadata.get("public_openpgp_keys", []):
            body, _ = self.get_ok(listed["url"])
            cert = Cert.from_bytes(body)
            if cert.fingerprint.upper() != listed["fingerprint"].upper():
                raise CheckFailed(f"the key at {listed['url']} is not {listed['fingerprint']}")
            keys.append(cert)
        return keys

    def run(self) -> Mirror:
        metadata = self.metadata()
        keys = self.keys(metadata)
        if not keys:
            raise CheckFailed("a trusted provider lists its OpenPGP key")
        feeds = [
            feed
            for distribution in metadata["distributions"]
            for feed in distribution.get("rolie", {}).get("feeds", [])
        ]
        for feed in feeds:
            status, body, _ = self.get(feed["url"])
            if status != 200:
                self.mirror.refused_feeds[feed["tlp_label"]] = status
                continue
            for entry in json.loads(body)["feed"]["entry"]:
                self._download(entry, feed["tlp_label"], keys)
        return self.mirror

    def _download(self, entry: dict, label: str, keys: list[Cert]) -> None:
        links = {}
        for link in entry["link"]:
            if link["rel"] == "hash":
                links[link["href"].rsplit(".", 1)[-1]] = link["href"]
            else:
                links[link["rel"]] = link["href"]
        url = links["self"]
        filename = url.rsplit("/", 1)[-1]
        if not re.fullmatch(r"[+\-a-z0-9_]+\.json", filename):
            raise CheckFailed(f"{filename} is not a conforming CSAF file name")
        data, content_type = self.get_ok(url)
        if content_type != "application/json":
            raise CheckFailed(f"{url} is served as {content_type}")
        for algorithm in ("sha256", "sha512"):
            served, _ = self.get_ok(links[algorithm])
            expected = hashlib.new(algorithm, data).hexdigest()
            if served.split()[0].decode() != expected:
                raise CheckFailed(f"{algorithm.upper()} of {url} does not match")
        signature, _ = self.get_ok(links["signature"])
        try:
            verify(bytes=data, store=lambda _ids: keys, signature=Sig.from_bytes(signature))
        except Exception as error:
            raise CheckFailed(f"the signature of {url} does not verify: {str(error).splitlines()[0]}") from None
        document = json.loads(data)
        csaf.validate(document)
        tracking = document["document"]["tracking"]
        if csaf.csaf_filename(tracking["id"]) != filename:
            raise CheckFailed(f"{filename} does not match the tracking id {tracking['id']}")
        if f"/{tracking['initial_release_date'][:4]}/" not in url:
            raise CheckFailed(f"{url} is not in the folder of its initial release year")
        if document["document"]["distribution"]["tlp"]["label"] != label:
            raise CheckFailed(f"{url} is listed in the TLP:{label} feed but labelled otherwise")
        self.mirror.documents[tracking["id"]] = document
        self.mirror.raw[tracking["id"]] = data
        self.mirror.urls[tracking["id"]] = url
