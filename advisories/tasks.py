from celery import shared_task

from advisories import services


@shared_task(ignore_result=True)
def release_due_waves():
    return len(services.release_due_waves())


# Idempotent (each delivery is notified once), so a failed send (SMTP errors are OSErrors) is retried, not lost.
@shared_task(
    ignore_result=True,
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=30,
    max_retries=8,
)
def send_release_notices(delivery_ids):
    return services.send_release_notices(delivery_ids=delivery_ids)


@shared_task(ignore_result=True, acks_late=True)
def email_notices(notice_ids):
    return services.email_notices(notice_ids=notice_ids)


@shared_task(ignore_result=True)
def send_notice_digests():
    return services.send_notice_digests()
