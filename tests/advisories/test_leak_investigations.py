"""Leak investigations: served copies are fingerprinted per delivery and reader, a leaked sample is traced back to
the copy, the exposure report lists who held the advisory before the observation, and a suspect becomes a
violation in one action."""

import html
import re
import sys
from datetime import timedelta
from io import StringIO
from unittest import mock

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from advisories import selectors, services
from advisories.fingerprinting import without_homoglyphs
from advisories.models import LeakIncident
from advisories.sample_texts import MAIL_SERVER
from compliance.models import Violation, ViolationKind, ViolationStatus
from core.levels import AccessLevel
from core.models import AuditEvent
from tests.factories import ArtifactFactory, WaveFactory


def _release(advisory, level):
    WaveFactory(advisory=advisory, level=level, scheduled_at=timezone.now())
    services.release_due_waves()


def _as_reader(client, url, *, ip="198.51.100.7"):
    """GET as a partner user would: acknowledging the handling terms first when the portal asks for it."""
    response = client.get(url, REMOTE_ADDR=ip)
    if response.status_code == 302 and "/acknowledge/" in response["Location"]:
        client.post(response["Location"], {"acknowledge": "on"}, REMOTE_ADDR=ip)
        response = client.get(url, REMOTE_ADDR=ip)
    return response


def _read_page(client, advisory, *, ip="198.51.100.7") -> str:
    """What a reader copies from the advisory page: the document's text, without the markup."""
    response = _as_reader(client, reverse("advisories:detail", args=[advisory.identifier]), ip=ip)
    assert response.status_code == 200
    article = re.search(r'<article class="document">(.*?)</article>', response.text, re.DOTALL).group(1)
    return html.unescape(re.sub(r"<[^>]+>", "", article))


def _excerpt(text: str) -> str:
    """2,000 characters from the first paragraph on (read as a reader sees it)."""
    start = without_homoglyphs(text).index("The flaw")
    return text[start : start + 2000]


@pytest.fixture
def partners(make_partner):
    return {
        "early": make_partner(level=AccessLevel.EARLY, legal_name="Early Bird Security"),
        "standard": make_partner(level=AccessLevel.STANDARD, legal_name="Standard Shield Ltd"),
    }


@pytest.fixture
def readers(partners, member_of):
    """A logged-in client per partner, each reading through its own person."""
    clients = {}
    for name, partner in partners.items():
        clients[name] = Client()
        clients[name].force_login(member_of(partner))
    return clients


@pytest.fixture
def released(long_advisory, partners):
    _release(long_advisory, AccessLevel.STANDARD)
    return long_advisory


def _open(actor, advisory, **fields):
    fields.setdefault("observed_at", timezone.now())
    fields.setdefault("description", "The technical description was posted on a forum.")
    return services.open_leak_incident(actor=actor, advisory=advisory, **fields)


@pytest.mark.django_db
def test_each_reader_is_served_a_different_copy_of_the_same_document(released, readers, partners, member_of):
    second_reader = Client()
    second_reader.force_login(member_of(partners["early"]))

    copies = {_read_page(readers["early"], released), _read_page(readers["standard"], released)}
    copies.add(_read_page(second_reader, released))

    assert len(copies) == 3


@pytest.mark.django_db
def test_a_sample_copied_from_the_page_is_traced_to_the_organisation_and_the_person(
    released, readers, partners, compliance_officer
):
    _read_page(readers["early"], released)
    leaked = _excerpt(_read_page(readers["standard"], released))

    incident = _open(compliance_officer, released, sample_text=leaked)

    match = incident.samples.get().trace_result["match"]
    assert match["partner"] == partners["standard"].pk
    assert match["user"] == partners["standard"].memberships.get().user.pk
    assert match["adjusted_p_value"] < 1e-6


@pytest.mark.django_db
def test_public_text_is_reported_as_no_match(released, readers, compliance_officer):
    for client in readers.values():
        _read_page(client, released)

    incident = _open(compliance_officer, released, sample_text=_excerpt(MAIL_SERVER))

    result = incident.samples.get().trace_result
    assert result["match"] is None
    assert result["candidates"] == 2


@pytest.mark.django_db
def test_the_detail_page_says_no_match_for_public_text(released, readers, client, compliance_officer):
    _read_page(readers["early"], released)
    incident = _open(compliance_officer, released, sample_text=_excerpt(MAIL_SERVER))
    client.force_login(compliance_officer)

    response = client.get(reverse("leaks:detail", args=[incident.pk]))

    assert "No match:" in response.text
    assert "Match:" not in response.text.replace("No match:", "")


@pytest.mark.django_db
def test_trace_leak_command_names_the_copy(released, readers, partners, tmp_path):
    leaked = tmp_path / "sample.txt"
    leaked.write_text(_excerpt(_read_page(readers["early"], released)), encoding="utf-8")
    _read_page(readers["standard"], released)
    out = StringIO()

    call_command("trace_leak", advisory=released.identifier, file=str(leaked), stdout=out)

    assert f"Match: {partners['early']}" in out.getvalue()


@pytest.mark.django_db
def test_trace_leak_command_reports_no_match_for_public_text(released, readers, tmp_path):
    _read_page(readers["early"], released)
    public = tmp_path / "public.txt"
    public.write_text(MAIL_SERVER, encoding="utf-8")
    out = StringIO()

    call_command("trace_leak", advisory=released.identifier, file=str(public), stdout=out)

    assert "No match" in out.getvalue()


@pytest.mark.django_db
def test_exposure_report_excludes_an_organisation_delivered_after_the_observation(
    long_advisory, partners, compliance_officer
):
    start = timezone.now()
    with time_machine.travel(start):
        WaveFactory(advisory=long_advisory, level=AccessLevel.EARLY, scheduled_at=start)
        WaveFactory(advisory=long_advisory, level=AccessLevel.STANDARD, scheduled_at=start + timedelta(hours=2))
        services.release_due_waves()
    with time_machine.travel(start + timedelta(hours=3)):
        services.release_due_waves()
        incident = _open(compliance_officer, long_advisory, observed_at=start + timedelta(hours=1))

        exposures = selectors.exposure_report(incident=incident)

    assert [exposure.partner for exposure in exposures] == [partners["early"]]
    assert exposures[0].level == AccessLevel.EARLY
    assert exposures[0].delivered_at == start


@pytest.mark.django_db
def test_exposure_report_lists_first_access_people_ips_and_risk_factors(
    released, readers, partners, compliance_officer
):
    _read_page(readers["early"], released, ip="203.0.113.5")
    _read_page(readers["early"], released, ip="203.0.113.9")
    incident = _open(compliance_officer, released)

    exposures = {exposure.partner: exposure for exposure in selectors.exposure_report(incident=incident)}

    early = exposures[partners["early"]]
    assert early.first_access is not None
    assert early.people == [partners["early"].memberships.get().user.email]
    assert early.ip_addresses == ["203.0.113.5", "203.0.113.9"]
    assert "Accessed from 2 different IP addresses." in early.risk_factors
    assert exposures[partners["standard"]].first_access is None
    assert (
        "Never opened the advisory before the observation (lower risk)." in exposures[partners["standard"]].risk_factors
    )


@pytest.mark.django_db
def test_exposure_report_ignores_accesses_after_the_observation(released, readers, partners, compliance_officer):
    observed_at = timezone.now()
    with time_machine.travel(observed_at + timedelta(minutes=5)):
        _read_page(readers["early"], released)
    incident = _open(compliance_officer, released, observed_at=observed_at)

    early = next(e for e in selectors.exposure_report(incident=incident) if e.partner == partners["early"])

    assert early.first_access is None


@pytest.mark.django_db
def test_a_traced_organisation_is_listed_first_with_the_trace_as_a_risk_factor(
    released, readers, partners, compliance_officer
):
    _read_page(readers["early"], released)
    leaked = _excerpt(_read_page(readers["standard"], released))
    incident = _open(compliance_officer, released, sample_text=leaked)

    exposures = selectors.exposure_report(incident=incident)

    assert exposures[0].partner == partners["standard"]
    assert "A leaked sample carries this organisation's fingerprint." in exposures[0].risk_factors


@pytest.mark.django_db
def test_opening_a_violation_from_a_suspect_attaches_the_evidence(
    released, readers, partners, client, compliance_officer
):
    leaked = _excerpt(_read_page(readers["standard"], released))
    incident = _open(compliance_officer, released, sample_text=leaked)
    client.force_login(compliance_officer)

    response = client.post(
        reverse("leaks:open_violation", args=[incident.pk]),
        {"partner": partners["standard"].pk, "severity": "critical"},
    )

    assert response.status_code == 302
    violation = Violation.objects.get()
    assert violation.partner == partners["standard"]
    assert violation.kind == ViolationKind.LEAK
    assert violation.severity == "critical"
    assert violation.status == ViolationStatus.REPORTED
    assert violation.related_advisories == [released.identifier]
    assert violation.evidence["leak_incident"] == incident.pk
    assert violation.evidence["fingerprint_traces"][0]["match"]["partner"] == partners["standard"].pk
    assert violation.evidence["exposure"]["level"] == "standard"
    assert list(incident.violations.all()) == [violation]
    assert AuditEvent.objects.filter(action="violation.reported").exists()


@pytest.mark.django_db
def test_a_violation_is_refused_against_an_organisation_that_did_not_hold_the_advisory(
    released, partners, make_partner, compliance_officer
):
    outsider = make_partner(level=AccessLevel.EARLY, legal_name="Never Delivered Inc")
    incident = LeakIncident.objects.get(pk=_open(compliance_officer, released).pk)

    with pytest.raises(ValidationError, match="did not hold the advisory before the leak was observed"):
        services.open_violation_for_suspect(actor=compliance_officer, incident=incident, partner=outsider)

    assert not Violation.objects.exists()


@pytest.mark.django_db
def test_only_compliance_officers_open_investigations(released, manager):
    with pytest.raises(PermissionDenied, match="Only compliance officers may do this"):
        _open(manager, released)


@pytest.mark.django_db
def test_an_observation_in_the_future_is_refused(released, compliance_officer):
    with pytest.raises(ValidationError, match="The observation time cannot be in the future"):
        _open(compliance_officer, released, observed_at=timezone.now() + timedelta(hours=1))


@pytest.mark.django_db
def test_leak_pages_answer_404_to_partners_and_program_managers(released, readers, client, manager):
    client.force_login(manager)
    assert client.get(reverse("leaks:list")).status_code == 404
    assert readers["early"].get(reverse("leaks:list")).status_code == 404


@pytest.mark.django_db
def test_an_officer_opens_an_investigation_with_an_uploaded_sample(
    released, readers, partners, client, compliance_officer
):
    leaked = _excerpt(_read_page(readers["early"], released))
    client.force_login(compliance_officer)

    response = client.post(
        reverse("leaks:list"),
        {
            "advisory": released.identifier,
            "observed_at": (timezone.now() - timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M"),
            "description": "Pasted on a forum.",
            "sample_file": SimpleUploadedFile("forum-post.txt", leaked.encode()),
        },
    )

    incident = LeakIncident.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("leaks:detail", args=[incident.pk])
    sample = incident.samples.get()
    assert sample.source == "forum-post.txt"
    assert sample.trace_result["match"]["partner"] == partners["early"].pk


@pytest.mark.django_db
def test_the_detail_page_runs_a_fixed_number_of_queries(released, make_partner, member_of, client, compliance_officer):
    client.force_login(compliance_officer)

    def queries_for_detail():
        incident = _open(compliance_officer, released)
        with CaptureQueriesContext(connection) as context:
            assert client.get(reverse("leaks:detail", args=[incident.pk])).status_code == 200
        return len(context)

    few = queries_for_detail()
    for _ in range(5):
        partner = make_partner(level=AccessLevel.STANDARD)
        reader = Client()
        reader.force_login(member_of(partner))
        services.deliver_due_waves(partner_ids=[partner.pk])
        _read_page(reader, released)

    assert queries_for_detail() == few


@pytest.mark.django_db
def test_a_text_artifact_is_fingerprinted_in_its_comments_only(long_advisory, partners, readers):
    source = (
        "# This proof of concept does not need credentials; for example it can run from any host.\n"
        "# The attacker cannot recover if the server does not respond.\n"
        "print('does not')\n"
    )
    poc = ArtifactFactory(advisory=long_advisory, level=AccessLevel.EARLY, content=source.encode(), filename="poc.py")
    _release(long_advisory, AccessLevel.EARLY)

    response = _as_reader(readers["early"], reverse("advisories:artifact", args=[long_advisory.identifier, poc.pk]))

    body = b"".join(response.streaming_content).decode()
    banner, rest = body.split("\n", 1)
    assert banner.startswith("# TLP:")
    assert rest.endswith("print('does not')\n")
    assert rest.isascii()


@pytest.mark.django_db
def test_the_leak_page_lists_indicators_partners_saw_in_the_wild_and_when(
    released, partners, member_of, client, compliance_officer
):
    from advisories.protection.services import submit_partner_indicator
    from compliance.entitlements import partner_access

    reporter = member_of(partners["early"])
    seen = released.public_release_at - timedelta(days=2)
    submit_partner_indicator(
        access=partner_access(reporter),
        advisory=released,
        indicator_type="ip",
        value="203.0.113.9",
        first_seen=min(seen, timezone.now()),
        confidence="high",
    )
    incident = _open(compliance_officer, released)
    client.force_login(compliance_officer)

    response = client.get(reverse("leaks:detail", args=[incident.pk]))

    [indicator] = response.context["indicators"]
    assert (indicator.value, indicator.partner) == ("203.0.113.9", partners["early"])
    assert indicator.before_public_release
    assert "before public release" in response.text


@pytest.mark.django_db
def test_a_reader_who_opened_the_page_ten_times_is_one_candidate(released, readers, partners):
    for _ in range(10):
        _read_page(readers["early"], released)
    _read_page(readers["standard"], released)

    copies = selectors.served_copies(advisory=released)
    result = selectors.trace_sample(advisory=released, text=_excerpt(_read_page(readers["standard"], released)))

    assert sorted((delivery.partner.pk, user.pk) for delivery, user in copies) == sorted(
        (partner.pk, partner.memberships.get().user.pk) for partner in partners.values()
    )
    assert result.candidates == 2
    assert result.match.delivery.partner == partners["standard"]


@pytest.mark.django_db
def test_a_hex_dump_of_the_proof_of_concept_traffic_is_traced_to_the_early_reader(long_advisory, partners, readers):
    from advisories.sample_texts import PROOF_OF_CONCEPT

    poc = ArtifactFactory(
        advisory=long_advisory, level=AccessLevel.EARLY, content=PROOF_OF_CONCEPT.encode(), filename="poc.py"
    )
    _release(long_advisory, AccessLevel.EARLY)
    url = reverse("advisories:artifact", args=[long_advisory.identifier, poc.pk])
    copy = b"".join(_as_reader(readers["early"], url).streaming_content).decode()
    namespace = {"__name__": "leaked"}
    with mock.patch.object(sys, "argv", ["poc.py"]):
        exec(compile(copy, "poc.py", "exec"), namespace)  # noqa: S102 (the test's own served copy)
    traffic = namespace["payload"]()
    dump = "\n".join(f"{n:08x}: {traffic[n : n + 16].hex(' ')}" for n in range(0, len(traffic), 16))
    stripped = "\n".join(line.split("#")[0] for line in copy.splitlines()[1:])

    by_code = selectors.trace_sample(advisory=long_advisory, text=stripped)
    by_bytes = selectors.trace_sample(advisory=long_advisory, text=dump)

    assert by_code.match.delivery.partner == partners["early"]
    assert by_bytes.match.delivery.partner == partners["early"]
    assert by_bytes.slots >= 4
