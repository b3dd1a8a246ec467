"""What the advisories services announce once a change has committed, for advisories/receivers.py to hand to the
broker. The services never import the tasks (the tasks call the services), so the arrow points one way."""

from django.dispatch import Signal

# delivery_ids: new deliveries whose organisations' members get a notice (advisories.tasks.send_release_notices).
deliveries_to_notify = Signal()
# notice_ids: new notices to email to those who want immediate email (advisories.tasks.email_notices).
notices_to_email = Signal()
# message_ids: new webhook messages to send (advisories.tasks.send_webhook_message, one task per message).
webhook_messages_to_send = Signal()
