from django.dispatch import Signal

# Sent after commit when a partner's standing changes (suspended, reinstated, removed, or a new agreement signed,
# which may entitle it to more), with `partner_id` and `new_status` (its current status). Higher layers re-sync
# what depends on it (e.g. permission clean-up on removal); access itself never waits for this: the entitlement
# rule reads the partner's status live.
standing_changed = Signal()
