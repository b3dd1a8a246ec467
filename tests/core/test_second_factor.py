"""The second factor as the password thief meets it: every path that can add, replace or remove an authenticator or
make recovery codes, tried with the password alone, with a verified but stale session, and with a fresh code.
Enrolment happens only for an account without any device, changes need a code from this session's last minutes,
and each change is audited, emailed and ends the account's other sessions. Staff reset only through the audited
service (program managers, partner accounts)."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from core import mfa
from core.models import AuditEvent
from partners.models import MemberRole
from tests.factories import ComplianceOfficerFactory, ProgramManagerFactory, UserFactory

PASSWORD = "correct horse battery staple"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    """Frozen time that tests move on: TOTP codes change every 30 seconds and each is accepted once."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def code(device):
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def log_in(client, user):
    response = client.post(reverse("login"), {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302, "the password step must pass"
    return response


def sign_in(client, user, token):
    """Password, then the second factor; returns the verification response."""
    log_in(client, user)
    return client.post(reverse("mfa_verify"), {"token": token})


def enrol(user, *, name="Phone", codes=("recover1", "recover2")):
    device = TOTPDevice.objects.create(user=user, name=name, confirmed=True)
    static = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    for value in codes:
        static.token_set.create(token=value)
    return device


def device_state(user):
    """Everything an attacker could change about the account's second factor."""
    return (
        sorted(TOTPDevice.objects.filter(user=user).values_list("pk", "confirmed", "key")),
        sorted(StaticToken.objects.filter(device__user=user).values_list("token", flat=True)),
    )


def actions(user):
    return list(
        AuditEvent.objects.filter(target_id=str(user.pk), action__startswith="mfa.").values_list("action", flat=True)
    )


@pytest.fixture
def enrolled(partner_user, clock):
    return partner_user, enrol(partner_user)


# The password alone ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_setup_page_shows_no_secret_and_enrols_nothing_when_the_account_already_has_a_device(client, enrolled):
    user, _ = enrolled
    before = device_state(user)
    log_in(client, user)

    response = client.get(reverse("mfa_setup"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_verify"))
    assert device_state(user) == before
    assert TOTPDevice.objects.filter(user=user).count() == 1


@pytest.mark.django_db
def test_replaying_a_setup_form_with_only_the_password_changes_nothing_when_the_account_has_a_device(client, enrolled):
    user, device = enrolled
    before = device_state(user)
    log_in(client, user)

    # Even a valid current code of the real device (say, shoulder-surfed) does not make the setup page enrol.
    response = client.post(reverse("mfa_setup"), {"token": code(device), "next": "/portal/"})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_verify"))
    assert device_state(user) == before
    assert "mfa.enrolled" not in actions(user)
    assert not client.session.get("otp_device_id")


@pytest.mark.django_db
def test_a_left_over_pending_device_cannot_be_confirmed_with_the_password_alone(client, enrolled):
    user, _ = enrolled
    pending = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    log_in(client, user)
    session = client.session
    session["mfa_pending_device_id"] = pending.pk
    session.save()

    response = client.post(reverse("mfa_setup"), {"token": code(pending)})

    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.confirmed is False
    assert "mfa.enrolled" not in actions(user)


@pytest.mark.django_db
def test_first_enrolment_service_refuses_an_account_that_has_a_device(enrolled):
    user, _ = enrolled
    pending = mfa.start_authenticator_setup(user=user)

    with pytest.raises(PermissionDenied, match="already has a second factor"):
        mfa.enrol_first_authenticator(user=user, device=pending, token=code(pending))

    pending.refresh_from_db()
    assert pending.confirmed is False


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "url_name"),
    [
        ("get", "account_security"),
        ("get", "account_add_authenticator"),
        ("post", "account_add_authenticator"),
        ("post", "account_recovery_codes"),
        ("get", "account_reverify"),
    ],
)
def test_security_pages_are_out_of_reach_with_the_password_alone(client, enrolled, method, url_name):
    user, device = enrolled
    before = device_state(user)
    log_in(client, user)

    response = getattr(client, method)(reverse(url_name), {"token": code(device)} if method == "post" else None)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_verify"))
    assert device_state(user) == before


@pytest.mark.django_db
def test_removing_an_authenticator_is_out_of_reach_with_the_password_alone(client, enrolled):
    user, device = enrolled
    second = TOTPDevice.objects.create(user=user, name="Tablet", confirmed=True)
    log_in(client, user)

    response = client.post(reverse("account_remove_authenticator", args=[second.pk]))

    assert response["Location"].startswith(reverse("mfa_verify"))
    assert TOTPDevice.objects.filter(user=user, confirmed=True).count() == 2


@pytest.mark.django_db
def test_a_staff_account_with_only_the_password_reaches_neither_the_admin_nor_enrolment(client, clock):
    manager = ProgramManagerFactory(email="pm@forewarn.test", is_superuser=True)
    enrol(manager)
    before = device_state(manager)
    log_in(client, manager)

    for url in ("/manage/", "/manage/core/user/", reverse("mfa_setup"), reverse("account_security")):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("mfa_verify")), url
    assert device_state(manager) == before


@pytest.mark.django_db
def test_the_django_admin_offers_no_second_factor_pages_even_to_a_verified_superuser(client, clock):
    superuser = ProgramManagerFactory(email="root@forewarn.test", is_superuser=True)
    device = enrol(superuser)
    victim = UserFactory(email="victim@northwind.test")
    victim_device = enrol(victim)
    sign_in(client, superuser, code(device))

    for url in (
        "/manage/otp_totp/totpdevice/",
        "/manage/otp_totp/totpdevice/add/",
        f"/manage/otp_totp/totpdevice/{victim_device.pk}/change/",
        f"/manage/otp_totp/totpdevice/{victim_device.pk}/config/",
        f"/manage/otp_totp/totpdevice/{victim_device.pk}/qrcode/",
        "/manage/otp_static/staticdevice/",
        "/manage/otp_static/statictoken/",
    ):
        assert client.get(url).status_code == 404, url
    page = client.get(f"/manage/core/user/{victim.pk}/change/")
    assert page.status_code == 200
    assert victim_device.key not in page.text
    assert mfa.totp_secret_base32(victim_device) not in page.text


def test_no_view_of_django_otp_is_routed():
    def callbacks(resolver):
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                yield from callbacks(entry)
            else:
                yield entry.callback

    modules = {getattr(callback, "__module__", "") for callback in callbacks(get_resolver())}

    assert not any(module.startswith("django_otp") for module in modules)


# Verified, but not recently ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_changes_need_a_fresh_code_even_in_a_verified_session(client, enrolled, clock):
    user, device = enrolled
    sign_in(client, user, code(device))
    clock.shift(mfa.REVERIFICATION_WINDOW + timedelta(seconds=1))
    before = device_state(user)

    add = client.get(reverse("account_add_authenticator"))
    regenerate = client.post(reverse("account_recovery_codes"))

    for response in (add, regenerate):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_reverify"))
    assert client.get(reverse("account_security")).status_code == 200
    assert device_state(user) == before


@pytest.mark.django_db
def test_a_stolen_verified_session_cannot_pass_re_verification_without_a_code(client, enrolled, clock):
    user, _ = enrolled
    client.force_login(user)  # a verified session, as if its cookie were stolen
    before = device_state(user)

    refused = client.post(reverse("account_reverify"), {"token": "123456"})
    regenerate = client.post(reverse("account_recovery_codes"))

    assert refused.status_code == 400
    assert "not valid" in refused.text
    assert regenerate["Location"].startswith(reverse("account_reverify"))
    assert device_state(user) == before


@pytest.mark.django_db
def test_services_refuse_changes_without_a_fresh_proof(enrolled, clock):
    user, device = enrolled
    stale = mfa.SecondFactorProof(
        user_id=user.pk, device_id=device.persistent_id, verified_at=START - mfa.REVERIFICATION_WINDOW * 2
    )
    pending = mfa.start_authenticator_setup(user=user)

    for attempt in (
        lambda: mfa.add_authenticator(user=user, device=pending, token=code(pending), proof=None),
        lambda: mfa.add_authenticator(user=user, device=pending, token=code(pending), proof=stale),
        lambda: mfa.regenerate_recovery_codes(user=user, proof=stale),
        lambda: mfa.remove_authenticator(user=user, device=device, proof=None),
    ):
        with pytest.raises(PermissionDenied, match="confirm it is you"):
            attempt()
    assert not TOTPDevice.objects.filter(pk=pending.pk, confirmed=True).exists()


@pytest.mark.django_db
def test_a_proof_from_another_account_or_a_removed_device_is_refused(enrolled, clock):
    user, device = enrolled
    other = UserFactory(email="other@northwind.test")
    other_device = enrol(other, codes=())
    pending = mfa.start_authenticator_setup(user=user)
    foreign = mfa.SecondFactorProof(user_id=user.pk, device_id=other_device.persistent_id, verified_at=START)
    removed = mfa.SecondFactorProof(user_id=user.pk, device_id="otp_totp.totpdevice/999999", verified_at=START)

    for proof in (foreign, removed):
        with pytest.raises(PermissionDenied, match="Enter a code from your authenticator app"):
            mfa.add_authenticator(user=user, device=pending, token=code(pending), proof=proof)


# With a fresh code -------------------------------------------------------------------------------------------------


def _new_device_from_setup_page(client, url):
    page = client.get(url)
    assert page.status_code == 200
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page.text)[1]
    return next(d for d in TOTPDevice.objects.filter(confirmed=False) if mfa.totp_secret_base32(d) == secret)


@pytest.mark.django_db
def test_a_recovery_code_login_can_replace_the_lost_authenticator(
    client, enrolled, clock, django_capture_on_commit_callbacks
):
    user, lost = enrolled
    other_session = Client()
    sign_in(other_session, user, code(lost))
    clock.shift(timedelta(seconds=30))

    with django_capture_on_commit_callbacks(execute=True):
        assert sign_in(client, user, "recover1").status_code == 302
        new = _new_device_from_setup_page(client, f"{reverse('account_add_authenticator')}?replace={lost.pk}")
        response = client.post(
            reverse("account_add_authenticator"), {"name": "New phone", "token": code(new), "replace": lost.pk}
        )

    assert response["Location"] == reverse("account_security")
    assert list(TOTPDevice.objects.filter(user=user).values_list("name", "confirmed")) == [("New phone", True)]
    assert actions(user)[-1] == "mfa.authenticator_replaced"
    assert AuditEvent.objects.filter(action="mfa.authenticator_replaced").get().details == {
        "device": "New phone",
        "replaced": "Phone",
    }
    subjects = [message.subject for message in mail.outbox if message.to == [user.email]]
    assert "[Forewarn] A recovery code of your Forewarn account was used" in subjects
    assert "[Forewarn] The authenticator app of your Forewarn account was replaced" in subjects
    assert reverse("account_security") in mail.outbox[-1].body
    # The other session ended; this one stays signed in and verified (with the new device).
    assert other_session.get(reverse("advisories:list"))["Location"].startswith(reverse("login"))
    assert client.get(reverse("account_security")).status_code == 200


@pytest.mark.django_db
def test_adding_and_then_removing_an_authenticator_with_a_fresh_code(client, enrolled, clock):
    user, phone = enrolled
    sign_in(client, user, code(phone))
    tablet = _new_device_from_setup_page(client, reverse("account_add_authenticator"))
    client.post(reverse("account_add_authenticator"), {"name": "Tablet", "token": code(tablet)})
    assert sorted(TOTPDevice.objects.filter(user=user, confirmed=True).values_list("name", flat=True)) == [
        "Phone",
        "Tablet",
    ]

    # The session's latest proof is the tablet (it just confirmed it), so the phone may go.
    response = client.post(reverse("account_remove_authenticator", args=[phone.pk]))

    assert response["Location"] == reverse("account_security")
    assert list(TOTPDevice.objects.filter(user=user).values_list("name", flat=True)) == ["Tablet"]
    assert actions(user)[-2:] == ["mfa.authenticator_added", "mfa.authenticator_removed"]


@pytest.mark.django_db
def test_the_last_authenticator_cannot_be_removed(client, enrolled, clock):
    user, phone = enrolled
    sign_in(client, user, code(phone))

    response = client.post(reverse("account_remove_authenticator", args=[phone.pk]), follow=True)

    assert "Every account keeps one authenticator app" in response.text
    assert TOTPDevice.objects.filter(pk=phone.pk, confirmed=True).exists()


@pytest.mark.django_db
def test_another_accounts_authenticator_cannot_be_removed_or_replaced(client, enrolled, clock):
    user, phone = enrolled
    other = UserFactory(email="other@northwind.test")
    other_device = enrol(other, codes=())
    TOTPDevice.objects.create(user=other, name="Spare", confirmed=True)
    sign_in(client, user, code(phone))

    assert client.post(reverse("account_remove_authenticator", args=[other_device.pk])).status_code == 404
    assert client.get(f"{reverse('account_add_authenticator')}?replace={other_device.pk}").status_code == 404
    assert TOTPDevice.objects.filter(user=other, confirmed=True).count() == 2


@pytest.mark.django_db
def test_new_recovery_codes_replace_the_old_ones_and_are_emailed_about(
    client, enrolled, clock, django_capture_on_commit_callbacks
):
    user, phone = enrolled
    sign_in(client, user, code(phone))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_recovery_codes"))

    codes = re.findall(r"<li><code>([a-z0-9]+)</code></li>", response.text)
    assert len(codes) == mfa.RECOVERY_CODE_COUNT
    assert sorted(StaticToken.objects.filter(device__user=user).values_list("token", flat=True)) == sorted(codes)
    assert actions(user)[-1] == "mfa.recovery_codes_regenerated"
    assert mail.outbox[-1].subject == "[Forewarn] New recovery codes were made for your Forewarn account"
    assert not any(value in mail.outbox[-1].body for value in codes)

    fresh = Client()
    log_in(fresh, user)
    assert "not valid" in fresh.post(reverse("mfa_verify"), {"token": "recover2"}).text
    clock.shift(timedelta(seconds=2))
    assert fresh.post(reverse("mfa_verify"), {"token": codes[0]}).status_code == 302


@pytest.mark.django_db
def test_re_verification_returns_to_the_change_that_asked_for_it(client, enrolled, clock):
    user, phone = enrolled
    client.force_login(user)
    asked = client.get(reverse("account_add_authenticator"))
    assert asked["Location"] == f"{reverse('account_reverify')}?next={reverse('account_add_authenticator')}"

    response = client.post(
        reverse("account_reverify"), {"token": code(phone), "next": reverse("account_add_authenticator")}
    )

    assert response["Location"] == reverse("account_add_authenticator")
    assert client.get(reverse("account_add_authenticator")).status_code == 200


# First enrolment, concurrent sessions --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_two_sessions_enrolling_at_once_see_different_secrets_and_only_the_first_confirmation_counts(
    partner_user, clock
):
    first, second = Client(), Client()
    log_in(first, partner_user)
    log_in(second, partner_user)
    first_device = _new_device_from_setup_page(first, reverse("mfa_setup"))
    second_device = _new_device_from_setup_page(second, reverse("mfa_setup"))
    assert first_device.pk != second_device.pk
    assert mfa.totp_secret_base32(first_device) != mfa.totp_secret_base32(second_device)

    assert first.post(reverse("mfa_setup"), {"token": code(first_device)}).status_code == 200
    late = second.post(reverse("mfa_setup"), {"token": code(second_device)})

    assert late.status_code == 302
    assert late["Location"].startswith(reverse("mfa_verify"))
    assert list(TOTPDevice.objects.filter(user=partner_user).values_list("pk", "confirmed")) == [
        (first_device.pk, True)
    ]
    assert second.get(reverse("mfa_setup"))["Location"].startswith(reverse("mfa_verify"))
    assert actions(partner_user).count("mfa.enrolled") == 1


@pytest.mark.django_db
def test_first_enrolment_is_audited_and_emailed(client, partner_user, clock, django_capture_on_commit_callbacks):
    log_in(client, partner_user)
    device = _new_device_from_setup_page(client, reverse("mfa_setup"))

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("mfa_setup"), {"token": code(device)})

    assert actions(partner_user) == ["mfa.enrolled"]
    assert [(m.to, m.subject) for m in mail.outbox] == [
        ([partner_user.email], "[Forewarn] Two-factor authentication was set up for your Forewarn account")
    ]
    assert mfa.totp_secret_base32(device) not in mail.outbox[0].body


@pytest.mark.django_db
def test_a_verified_account_visiting_the_setup_page_is_sent_to_its_security_page(client, enrolled, clock):
    user, phone = enrolled
    sign_in(client, user, code(phone))
    before = device_state(user)

    response = client.post(reverse("mfa_setup"), {"token": "123456"})

    assert response["Location"] == reverse("account_security")
    assert device_state(user) == before


# Staff reset ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def manager_signed_in(clock):
    manager = ProgramManagerFactory(email="pm@forewarn.test")
    device = enrol(manager, codes=())
    staff = Client()
    sign_in(staff, manager, code(device))
    return manager, staff


def _reset_url(user):
    membership = user.membership
    return reverse("program:partner_member_reset_second_factor", args=[membership.partner_id, membership.pk])


def _reset(client, user, reason="Lost phone; identity confirmed by a call to the number on file."):
    field = f"reset-{user.membership.pk}-reason"
    next_url = reverse("program:partner_detail", args=[user.membership.partner_id])
    return client.post(_reset_url(user), {field: reason, "next": next_url})


@pytest.mark.django_db
def test_a_program_manager_resets_a_lost_device_and_the_next_login_enrols_anew(
    enrolled, manager_signed_in, django_capture_on_commit_callbacks
):
    user, phone = enrolled
    manager, staff = manager_signed_in
    victim_session = Client()
    sign_in(victim_session, user, code(phone))

    with django_capture_on_commit_callbacks(execute=True):
        response = _reset(staff, user)

    assert response.status_code == 302
    assert device_state(user) == ([], [])
    event = AuditEvent.objects.get(action="mfa.reset")
    assert (event.actor_id, event.target_id) == (manager.pk, str(user.pk))
    assert event.details["reason"].startswith("Lost phone")
    assert event.details["sessions_ended"] == 1
    assert [(m.to, m.subject) for m in mail.outbox] == [
        ([user.email], "[Forewarn] The second factor of your Forewarn account was reset")
    ]
    assert reverse("login") in mail.outbox[0].body
    # The person's sessions ended; the next login goes to enrolment.
    assert victim_session.get(reverse("advisories:list"))["Location"].startswith(reverse("login"))
    fresh = Client()
    log_in(fresh, user)
    assert fresh.get(reverse("advisories:list"))["Location"].startswith(reverse("mfa_setup"))


@pytest.mark.django_db
def test_a_program_manager_without_a_fresh_code_is_asked_for_one_first(enrolled, clock):
    user, _ = enrolled
    manager = ProgramManagerFactory(email="pm@forewarn.test")
    staff = Client()
    staff.force_login(manager)
    before = device_state(user)

    response = _reset(staff, user)

    assert response["Location"].startswith(reverse("account_reverify"))
    assert device_state(user) == before


@pytest.mark.django_db
def test_a_compliance_officer_may_not_reset_a_second_factor(enrolled, clock):
    user, _ = enrolled
    officer = ComplianceOfficerFactory(email="co@forewarn.test")
    device = enrol(officer, codes=())
    staff = Client()
    sign_in(staff, officer, code(device))
    before = device_state(user)

    assert _reset(staff, user).status_code == 403
    assert device_state(user) == before
    with pytest.raises(PermissionDenied, match="Only program managers"):
        mfa.reset_second_factor(user=user, actor=officer, reason="x", proof=None)


@pytest.mark.django_db
def test_a_partner_admin_may_not_reset_a_colleagues_second_factor(enrolled, member_of, clock):
    user, _ = enrolled
    admin = member_of(user.membership.partner, role=MemberRole.ADMIN, user=UserFactory(email="admin@northwind.test"))
    device = enrol(admin, codes=())
    partner_admin = Client()
    sign_in(partner_admin, admin, code(device))
    before = device_state(user)

    assert _reset(partner_admin, user).status_code == 404
    with pytest.raises(PermissionDenied, match="Only program managers"):
        mfa.reset_second_factor(user=user, actor=admin, reason="Lost phone", proof=None)
    assert device_state(user) == before


@pytest.mark.django_db
def test_staff_accounts_and_ones_own_are_never_reset_by_the_staff_service(manager_signed_in, clock):
    manager, _ = manager_signed_in
    proof = mfa.SecondFactorProof(
        user_id=manager.pk, device_id=TOTPDevice.objects.get(user=manager).persistent_id, verified_at=START
    )
    colleague = ProgramManagerFactory(email="colleague@forewarn.test")
    enrol(colleague)
    officer = ComplianceOfficerFactory(email="co@forewarn.test")
    enrol(officer)

    for target in (colleague, officer, manager):
        before = device_state(target)
        with pytest.raises(
            PermissionDenied, match="second factor is reset only by an operator|You cannot reset your own second factor"
        ):
            mfa.reset_second_factor(user=target, actor=manager, reason="Lost phone", proof=proof)
        assert device_state(target) == before


@pytest.mark.django_db
def test_an_operator_resets_a_staff_account_from_the_command_line(clock, django_capture_on_commit_callbacks):
    manager = ProgramManagerFactory(email="pm@forewarn.test")
    enrol(manager)

    with django_capture_on_commit_callbacks(execute=True):
        call_command("reset_second_factor", "PM@forewarn.test", reason="Lost phone, ticket OPS-12", verbosity=0)

    assert device_state(manager) == ([], [])
    event = AuditEvent.objects.get(action="mfa.reset_by_operator")
    assert (event.actor_id, event.actor_label, event.details["reason"]) == (None, "system", "Lost phone, ticket OPS-12")
    assert mail.outbox[0].to == [manager.email]


@pytest.mark.django_db
def test_ending_sessions_leaves_other_accounts_signed_in(enrolled, manager_signed_in):
    user, phone = enrolled
    manager, staff = manager_signed_in
    sign_in(Client(), user, code(phone))
    sessions_before = Session.objects.count()

    _reset(staff, user)

    assert Session.objects.count() == sessions_before - 1
    assert staff.get(reverse("program:dashboard")).status_code == 200


# Throttling and the page before the second factor --------------------------------------------------------------------


@pytest.mark.django_db
def test_the_right_code_after_several_wrong_ones_is_refused_with_how_long_to_wait(client, enrolled, clock):
    user, phone = enrolled
    log_in(client, user)
    for wrong in ("111111", "222222", "333333", "444444"):
        clock.shift(timedelta(seconds=20))  # past each wait, so that every wrong code is checked and counted
        client.post(reverse("mfa_verify"), {"token": wrong})

    early = client.post(reverse("mfa_verify"), {"token": code(phone)})

    assert early.status_code == 429
    assert "Too many wrong codes" in early.text
    assert "wait 8 seconds" in early.text
    assert "not valid, or has been used already" not in early.text
    assert not client.session.get("otp_device_id")

    clock.shift(timedelta(seconds=9))
    assert client.post(reverse("mfa_verify"), {"token": code(phone)})["Location"] == reverse("home")


@pytest.mark.django_db
def test_a_wrong_code_says_how_long_to_wait_before_the_next_try(client, enrolled, clock):
    user, _ = enrolled
    log_in(client, user)
    for wrong in ("111111", "222222"):
        clock.shift(timedelta(seconds=20))
        response = client.post(reverse("mfa_verify"), {"token": wrong})

    assert response.status_code == 400
    assert "That code is not valid, or has been used already. Wait 2 seconds before you try again." in response.text


@pytest.mark.django_db
def test_waiting_attempts_are_not_audited_one_by_one(client, enrolled, clock):
    user, _ = enrolled
    log_in(client, user)
    for _ in range(20):
        client.post(reverse("mfa_verify"), {"token": "111111"})

    assert actions(user).count("mfa.failed") == 1


@pytest.mark.django_db
def test_recovery_codes_are_throttled_apart_from_the_authenticator(client, enrolled, clock):
    user, _ = enrolled
    log_in(client, user)
    for wrong in ("111111", "222222", "333333", "444444", "555555"):
        clock.shift(timedelta(seconds=20))
        client.post(reverse("mfa_verify"), {"token": wrong})

    assert client.post(reverse("mfa_verify"), {"token": "recover1"}).status_code == 302


@pytest.mark.django_db
def test_the_page_before_the_second_factor_shows_no_navigation_and_no_unread_count(client, enrolled, clock):
    user, phone = enrolled
    log_in(client, user)

    page = client.get(reverse("mfa_verify"))

    assert page.status_code == 200
    header = page.text.split("<main>")[0]
    for hidden in ("My advisories", "Inbox", "Agreements", "unread notices", "Security", user.email, "Dashboard"):
        assert hidden not in header, hidden
    assert "Log out" in header
    assert "unread_notices" not in page.context or page.context.get("unread_notices") is None

    client.post(reverse("mfa_verify"), {"token": code(phone)})
    # "My advisories" is offered only to an organisation with access (this one has signed nothing): the inbox always.
    after = client.get(reverse("advisories:notices")).text.split("<main>")[0]
    assert "Inbox" in after
    assert "Security" in after


@pytest.mark.django_db
def test_the_setup_page_before_enrolment_shows_no_navigation(client, partner_user, clock):
    log_in(client, partner_user)

    header = client.get(reverse("mfa_setup")).text.split("<main>")[0]

    assert "My advisories" not in header
    assert "Inbox" not in header
    assert "Log out" in header
