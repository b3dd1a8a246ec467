from celery import shared_task

from core import services


@shared_task(ignore_result=True)
def link_audit_events():
    return services.link_audit_events()


@shared_task(ignore_result=True)
def publish_audit_checkpoint():
    checkpoint = services.publish_audit_checkpoint()
    return checkpoint.size if checkpoint else None
