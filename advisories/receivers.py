from django.dispatch import receiver

from advisories.services import deliver_missed_waves, revoke_partner_grants
from partners.models import PartnerStatus
from partners.signals import standing_changed


@receiver(standing_changed, dispatch_uid="advisories.revoke_grants_on_removal")
def revoke_grants_on_removal(sender, partner_id, new_status, **kwargs):
    if new_status == PartnerStatus.REMOVED:
        revoke_partner_grants(partner_id=partner_id)


@receiver(standing_changed, dispatch_uid="advisories.deliver_missed_waves_on_reinstatement")
def deliver_missed_waves_on_reinstatement(sender, partner_id, new_status, **kwargs):
    if new_status == PartnerStatus.ACTIVE:
        deliver_missed_waves(partner_id=partner_id)
