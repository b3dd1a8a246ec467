"""The CSAF trusted provider directory, fetched over real HTTP by a test client acting as a CSAF downloader
(tests/csaf/downloader.py): metadata -> keys -> feeds -> documents -> hashes -> signatures, all checked. Each
organisation mirrors exactly what the portal lists for it, as its own copies; the public gets the public TLP:CLEAR
advisories and nothing else."""

import hashlib
import json
import os
import re
import shutil
import subprocess
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from pysequoia import Sig, verify
from rest_framework.test import APIClient

from advisories import services
from advisories.csaf import signing
from advisories.models import TLP, AccessKind, Advisory, AdvisoryStatus, DownloadEvent
from core.levels import AccessLevel
from partners import services as partner_services
from tests.csaf.downloader import CheckFailed, CsafDownloader
from tests.factories import AdvisoryFactory, ArtifactFactory, DocumentFactory, WaveFactory

STANDARD_TEXT = "Standard technical details of the overflow."
GENERIC_TEXT = "Generic summary of the flaw.\n\n## Mitigation\n\nBlock port 445 at the perimeter."


def _advisory(tlp, title):
    advisory = AdvisoryFactory(
        tlp=tlp,
        title=title,
        affected_products="Widget Server 4.2",
        product_identifiers={"Widget Server 4.2": {"cpe": "cpe:2.3:a:widgetco:widget_server:4.2:*:*:*:*:*:*:*"}},
        cwe_id="CWE-787",
        cvss_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        cvss_score="9.8",
        public_release_at=timezone.now() + timedelta(days=30),
    )
    DocumentFactory(advisory=advisory, level=AccessLevel.GENERIC, title="Summary", body_markdown=GENERIC_TEXT)
    DocumentFactory(advisory=advisory, level=AccessLevel.STANDARD, title="Details", body_markdown=STANDARD_TEXT)
    ArtifactFactory(advisory=advisory, level=AccessLevel.STANDARD, name="Detection rule")
    ArtifactFactory(advisory=advisory, level=AccessLevel.EARLY, name="Proof of concept", filename="poc.py")
    return advisory


def _release(advisory, level, at):
    with time_machine.travel(at, tick=False):
        WaveFactory(advisory=advisory, level=level, scheduled_at=at)
        services.release_due_waves(now=at)


@pytest.fixture
def world(make_partner, member_of, manager):
    """Early, standard and generic partners; a public TLP:CLEAR advisory, a released TLP:AMBER one (early and
    standard waves out), a TLP:GREEN one whose early wave alone is out, and a draft; a suspended early partner."""
    start = timezone.now() - timedelta(hours=6)
    partners = {level: make_partner(level=level) for level in (AccessLevel.EARLY, AccessLevel.STANDARD)}
    partners[AccessLevel.GENERIC] = make_partner(level=AccessLevel.GENERIC)
    suspended = make_partner(level=AccessLevel.EARLY)
    public = _advisory(TLP.CLEAR, "Public flaw")
    amber = _advisory(TLP.AMBER, "Embargoed flaw")
    green = _advisory(TLP.GREEN, "Early flaw")
    draft = _advisory(TLP.AMBER, "Draft flaw")
    Advisory.objects.filter(pk=draft.pk).update(status=AdvisoryStatus.DRAFT)
    _release(public, AccessLevel.EARLY, start)
    _release(public, AccessLevel.STANDARD, start + timedelta(minutes=10))
    _release(public, AccessLevel.GENERIC, start + timedelta(minutes=20))
    _release(amber, AccessLevel.EARLY, start + timedelta(minutes=30))
    _release(amber, AccessLevel.STANDARD, start + timedelta(minutes=40))
    _release(green, AccessLevel.EARLY, start + timedelta(minutes=50))
    partner_services.suspend_partner(partner=suspended, actor=manager, reason="Leak under investigation")
    assert Advisory.objects.get(pk=public.pk).status == AdvisoryStatus.PUBLIC
    admins = {level: member_of(partner, role="admin") for level, partner in partners.items()}
    tokens = {
        level: partner_services.create_api_token(
            actor=admins[level], name="CSAF mirror", expires_at=timezone.now() + timedelta(days=30)
        )
        for level in partners
    }
    suspended_admin = member_of(suspended, role="admin")
    return {
        "partners": partners,
        "admins": admins,
        "tokens": tokens,
        "suspended_admin": suspended_admin,
        "public": public,
        "amber": amber,
        "green": green,
    }


def _portal_list(client, user) -> set[str]:
    """The identifiers the portal's advisory list shows the user."""
    client.force_login(user)
    response = client.get(reverse("advisories:list"))
    assert response.status_code == 200
    return set(re.findall(r"FWN-\d{4}-\d{4,}", response.text))


HOLDINGS = {
    AccessLevel.EARLY: {"public", "amber", "green"},
    AccessLevel.STANDARD: {"public", "amber"},
    AccessLevel.GENERIC: {"public"},
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("level", [AccessLevel.EARLY, AccessLevel.STANDARD, AccessLevel.GENERIC])
def test_each_partner_mirrors_exactly_what_the_portal_lists_with_hashes_and_signatures_verified(
    level, world, live_server, settings, client
):
    settings.FOREWARN_PORTAL_URL = live_server.url
    token, secret = world["tokens"][level]

    mirror = CsafDownloader(live_server.url, secret).run()

    expected = {world[name].identifier for name in HOLDINGS[level]}
    assert set(mirror.documents) == expected
    assert set(mirror.documents) == _portal_list(client, world["admins"][level])
    assert mirror.refused_feeds == {}
    for identifier, document in mirror.documents.items():
        text = json.dumps(document)
        notes = {note["category"] for note in document["document"]["notes"]}
        assert world["partners"][level].legal_name in text  # the issued-to line: its own copy
        assert ("details" in notes) is (level >= AccessLevel.STANDARD)
        assert ("Proof of concept" in text) is (level >= AccessLevel.EARLY)
        # The same copy as the API's CSAF export for the same token.
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        assert api.get(reverse("api:csaf", args=[identifier])).json() == document
    # Every document fetch is recorded like a download, with the token; hashes and signatures carry no content.
    events = DownloadEvent.objects.filter(api_token=token, kind=AccessKind.CSAF)
    assert events.count() == 2 * len(expected)  # the mirror, then the API comparison


@pytest.mark.django_db(transaction=True)
def test_the_public_mirrors_only_the_public_clear_advisories_and_is_refused_the_other_feeds(
    world, live_server, settings
):
    settings.FOREWARN_PORTAL_URL = live_server.url

    mirror = CsafDownloader(live_server.url).run()

    assert set(mirror.documents) == {world["public"].identifier}
    assert mirror.refused_feeds == {"GREEN": 401, "AMBER": 401, "RED": 401}
    document = mirror.documents[world["public"].identifier]
    text = json.dumps(document)
    assert {note["category"] for note in document["document"]["notes"]} == {"summary", "legal_disclaimer"}
    assert "Proof of concept" not in text and "Issued to" not in text and GENERIC_TEXT.splitlines()[0] in text
    assert document["document"]["tracking"]["status"] == "final"
    assert not DownloadEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_tampered_or_unsigned_document_fails_the_downloaders_checks(world, live_server, settings, monkeypatch):
    """The downloader's checks can fail: a signature of other bytes is refused."""
    settings.FOREWARN_PORTAL_URL = live_server.url
    sign = signing.detached_signature
    monkeypatch.setattr(signing, "detached_signature", lambda data: sign(data + b" "))

    with pytest.raises(CheckFailed, match="does not verify"):
        CsafDownloader(live_server.url, world["tokens"][AccessLevel.GENERIC][1]).run()


# The same checks through Django's test client (no server thread): faster, and with an HTTPS portal address, as
# the ROLIE schema requires. -----------------------------------------------------------------------------------


def _api(secret=None):
    client = APIClient()
    if secret:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def _document_path(advisory, suffix=""):
    filename = f"{advisory.identifier.lower()}.json"
    label = {TLP.CLEAR: "white", TLP.GREEN: "green", TLP.AMBER: "amber"}[advisory.tlp]
    return f"/.well-known/csaf/{label}/{timezone.now().year}/{filename}{suffix}"


@pytest.mark.django_db
def test_provider_metadata_and_feeds_validate_against_the_csaf_schemas(world, https_portal):
    from jsonschema import Draft202012Validator, FormatChecker
    from referencing import Registry, Resource

    from advisories.csaf.schema import SCHEMA_DIR

    def schema(name):
        return json.loads((SCHEMA_DIR / name).read_text())

    registry = Registry().with_resource(
        "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json",
        Resource.from_contents(schema("csaf_json_schema.json")),
    )
    provider_schema = Draft202012Validator(
        schema("provider_json_schema.json"), registry=registry, format_checker=FormatChecker()
    )
    feed_schema = Draft202012Validator(schema("ROLIE_feed_json_schema.json"), format_checker=FormatChecker())
    api = _api(world["tokens"][AccessLevel.EARLY][1])

    metadata = api.get("/.well-known/csaf/provider-metadata.json").json()
    provider_schema.validate(metadata)
    assert metadata["role"] == "csaf_trusted_provider"
    assert metadata["canonical_url"] == "https://forewarn.example/.well-known/csaf/provider-metadata.json"
    assert metadata["public_openpgp_keys"][0]["fingerprint"] == signing.fingerprint()
    for feed in metadata["distributions"][0]["rolie"]["feeds"]:
        feed_schema.validate(api.get(feed["url"]).json())
    service = api.get(metadata["distributions"][0]["rolie"]["services"][0]).json()
    assert [c["href"] for c in service["service"]["workspace"][0]["collection"]] == [
        feed["url"] for feed in metadata["distributions"][0]["rolie"]["feeds"]
    ]
    assert _api().get("/.well-known/csaf/provider-metadata.json").json() == metadata  # the same for all


@pytest.mark.django_db
def test_index_and_changes_list_the_folder_latest_change_first(world, https_portal):
    api = _api(world["tokens"][AccessLevel.EARLY][1])
    year = timezone.now().year

    index = api.get("/.well-known/csaf/amber/index.txt")
    changes = api.get("/.well-known/csaf/amber/changes.csv")
    white_changes = _api().get("/.well-known/csaf/white/changes.csv").content.decode()

    assert index.content.decode() == f"{year}/{world['amber'].identifier.lower()}.json\n"
    rows = [line.split(",") for line in changes.content.decode().splitlines()]
    assert [row[0] for row in rows] == [f'"{year}/{world["amber"].identifier.lower()}.json"']
    feed = api.get("/.well-known/csaf/csaf-feed-tlp-amber.json").json()
    assert rows[0][1] == f'"{feed["feed"]["entry"][0]["updated"]}"'
    assert white_changes == f'"{year}/{world["public"].identifier.lower()}.json","' + (
        _api().get("/.well-known/csaf/csaf-feed-tlp-white.json").json()["feed"]["entry"][0]["updated"] + '"\n'
    )
    listing = api.get(f"/.well-known/csaf/amber/{year}/")
    assert f"{world['amber'].identifier.lower()}.json.asc" in listing.content.decode()


@pytest.mark.django_db
def test_a_partner_gets_404_for_what_it_does_not_hold_and_the_public_401_for_protected_folders(world, https_portal):
    generic = _api(world["tokens"][AccessLevel.GENERIC][1])
    standard = _api(world["tokens"][AccessLevel.STANDARD][1])

    for suffix in ("", ".sha256", ".sha512", ".asc"):
        assert generic.get(_document_path(world["amber"], suffix)).status_code == 404
        assert standard.get(_document_path(world["green"], suffix)).status_code == 404
        assert _api().get(_document_path(world["amber"], suffix)).status_code == 401
        assert _api().get(_document_path(world["green"], suffix)).status_code == 401
    # A document it holds, in another label or year folder, does not exist there.
    wrong_label = _document_path(world["amber"]).replace("/amber/", "/red/")
    wrong_year = _document_path(world["amber"]).replace(f"/{timezone.now().year}/", "/2019/")
    assert standard.get(wrong_label).status_code == 404
    assert standard.get(wrong_year).status_code == 404
    assert standard.get(_document_path(world["amber"])).status_code == 200
    assert _api().get("/.well-known/csaf/amber/index.txt").status_code == 401
    assert _api().get("/.well-known/csaf/amber/").status_code == 401
    assert not DownloadEvent.objects.filter(advisory__in=[world["green"]]).exists()


@pytest.mark.django_db
def test_an_organisation_without_access_reads_only_what_the_public_reads(world, https_portal, member_of, manager):
    partner = world["partners"][AccessLevel.STANDARD]
    secret = world["tokens"][AccessLevel.STANDARD][1]
    partner_services.suspend_partner(partner=partner, actor=manager, reason="Leak under investigation")
    api = _api(secret)

    assert api.get("/.well-known/csaf/csaf-feed-tlp-amber.json").status_code == 403
    assert api.get(_document_path(world["amber"])).status_code == 403
    white = api.get("/.well-known/csaf/csaf-feed-tlp-white.json").json()
    assert [entry["id"] for entry in white["feed"]["entry"]] == [world["public"].identifier]
    document = api.get(_document_path(world["public"]))
    assert document.status_code == 200
    assert partner.legal_name not in document.content.decode()  # the public copy, not its own
    assert not DownloadEvent.objects.filter(partner=partner).exists()


@pytest.mark.django_db
def test_a_refused_token_is_told_so_rather_than_served_the_public_view(world, https_portal):
    token, secret = world["tokens"][AccessLevel.EARLY]
    partner_services.revoke_api_token(actor=world["admins"][AccessLevel.EARLY], token=token)

    for path in ("/.well-known/csaf/provider-metadata.json", "/.well-known/csaf/csaf-feed-tlp-white.json"):
        assert _api(secret).get(path).status_code == 401
    assert _api("not-a-token").get("/.well-known/csaf/csaf-feed-tlp-white.json").status_code == 401


@pytest.mark.django_db
def test_a_copy_reads_the_same_on_every_fetch_until_it_changes_then_its_revision_history_grows(world, https_portal):
    api = _api(world["tokens"][AccessLevel.STANDARD][1])
    path = _document_path(world["amber"])

    first, again = api.get(path).content, api.get(path).content
    with time_machine.travel(timezone.now() + timedelta(minutes=5), tick=False):
        assert api.get(path).content == first  # time alone changes nothing
    public_at = timezone.now() + timedelta(hours=1)
    _release(world["amber"], AccessLevel.GENERIC, public_at)
    changed = api.get(path).content

    assert first == again
    assert api.get(path + ".sha256").content.split()[0].decode() == hashlib.sha256(changed).hexdigest()
    before, after = json.loads(first), json.loads(changed)
    assert before["document"]["tracking"]["status"] == "interim"
    assert [r["number"] for r in before["document"]["tracking"]["revision_history"]] == ["1"]
    assert after["document"]["tracking"]["status"] == "final"
    assert after["document"]["tracking"]["version"] == "2"
    assert [r["number"] for r in after["document"]["tracking"]["revision_history"]] == ["1", "2"]
    categories = [r["category"] for r in after["vulnerabilities"][0]["remediations"]]
    assert [r["category"] for r in before["vulnerabilities"][0]["remediations"]] == ["none_available", "mitigation"]
    assert categories == ["vendor_fix", "mitigation"]
    changes = api.get("/.well-known/csaf/amber/changes.csv").content.decode()
    assert changes.split(",")[1].strip() == f'"{after["document"]["tracking"]["current_release_date"]}"'


@pytest.mark.django_db
def test_two_organisations_reading_the_same_url_get_their_own_copies(world, https_portal):
    path = _document_path(world["public"])

    early = _api(world["tokens"][AccessLevel.EARLY][1]).get(path).content.decode()
    generic = _api(world["tokens"][AccessLevel.GENERIC][1]).get(path).content.decode()
    public = _api().get(path).content.decode()

    assert world["partners"][AccessLevel.EARLY].legal_name in early
    assert world["partners"][AccessLevel.GENERIC].legal_name in generic
    assert len({early, generic, public}) == 3


def _gpg_unavailable(reason):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: the interoperability check must run)", pytrace=False)
    pytest.skip(reason)


@pytest.mark.django_db
def test_signatures_verify_with_gnupg_and_the_published_key(world, https_portal, tmp_path):
    """A second OpenPGP implementation (GnuPG, as many mirrors use) accepts the signatures and the key."""
    gpg = shutil.which("gpg")
    if gpg is None:
        _gpg_unavailable("needs gpg (Debian's gnupg package)")
    api = _api(world["tokens"][AccessLevel.EARLY][1])
    fingerprint = signing.fingerprint()
    (tmp_path / "key.asc").write_bytes(api.get(f"/.well-known/csaf/openpgp/{fingerprint}.asc").content)
    (tmp_path / "doc.json").write_bytes(api.get(_document_path(world["amber"])).content)
    (tmp_path / "doc.json.asc").write_bytes(api.get(_document_path(world["amber"], ".asc")).content)
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)

    def run(*args):
        command = [gpg, "--batch", "--homedir", str(home), *args]
        return subprocess.run(command, capture_output=True, text=True, encoding="utf-8", errors="replace")

    assert run("--import", str(tmp_path / "key.asc")).returncode == 0
    good = run("--status-fd", "1", "--verify", str(tmp_path / "doc.json.asc"), str(tmp_path / "doc.json"))
    (tmp_path / "doc.json").write_bytes((tmp_path / "doc.json").read_bytes().replace(b"Embargoed", b"Embargoes"))
    bad = run("--status-fd", "1", "--verify", str(tmp_path / "doc.json.asc"), str(tmp_path / "doc.json"))

    assert good.returncode == 0 and "GOODSIG" in good.stdout and fingerprint in good.stdout
    assert bad.returncode != 0 and "BADSIG" in bad.stdout


@pytest.mark.django_db
def test_a_signature_is_made_by_the_published_key_over_the_exact_bytes_served(world, https_portal):
    api = _api(world["tokens"][AccessLevel.EARLY][1])
    data = api.get(_document_path(world["green"])).content
    signature = Sig.from_bytes(api.get(_document_path(world["green"], ".asc")).content)
    key = signing.public_key()

    result = verify(bytes=data, store=lambda _ids: [key], signature=signature)

    assert result.valid_sigs[0].certificate.upper() == signing.fingerprint()
    with pytest.raises(Exception, match="verification failed"):
        verify(bytes=data + b"\n", store=lambda _ids: [key], signature=signature)
