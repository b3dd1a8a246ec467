import pytest
from django.utils import timezone

from advisories import services
from compliance.entitlements import partner_access
from core.levels import AccessLevel
from tests.factories import WaveFactory, acknowledge_handling_for_every_member


def release(advisory, level=AccessLevel.EARLY):
    """Release a wave of `advisory` at `level` now, through the release service."""
    WaveFactory(advisory=advisory, level=level, scheduled_at=timezone.now())
    services.release_due_waves()


@pytest.fixture
def receiver(make_partner, member_of):
    """An early partner and one of its analysts."""
    partner = make_partner(level=AccessLevel.EARLY, legal_name="Receiving Org")
    return partner, member_of(partner)


@pytest.fixture
def received(receiver, advisory):
    """The advisory released (early wave, now) to the receiving organisation, handling terms acknowledged by its
    members. Returns the receiver's access."""
    partner, user = receiver
    release(advisory)
    acknowledge_handling_for_every_member(advisory)
    return partner_access(user)


@pytest.fixture
def outsider(received, make_partner, member_of):
    """An early partner that joined after the release (so it did not receive the advisory), and one of its
    analysts."""
    partner = make_partner(level=AccessLevel.EARLY, legal_name="Outside Org")
    return partner, member_of(partner)
