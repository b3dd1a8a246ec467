from django.db import transaction
from django.dispatch import Signal

from partners.models import Partner

# Sent after commit when a partner's standing changes (suspended, reinstated, removed), with `partner_id` and
# `new_status` (its current status). Higher layers re-sync what depends on it (e.g. permission clean-up on removal);
# access itself never waits for this: the entitlement rule reads the partner's status live.
standing_changed = Signal()

# Sent after commit by every service that may entitle organisations to more than before (an agreement signed or
# renewed, reinstatement, a level raised, a cap ended or overturned, a jurisdiction policy relaxed), with
# `partner_ids`. The advisories layer delivers what became due through its one delivery path; a periodic
# reconciliation catches anything a lost message missed.
entitlement_changed = Signal()


def announce_entitlement_change(partner_ids: list[int]) -> None:
    """Send `entitlement_changed` for these organisations once the current transaction commits."""
    if partner_ids:
        partner_ids = list(partner_ids)
        transaction.on_commit(lambda: entitlement_changed.send(sender=Partner, partner_ids=partner_ids))
