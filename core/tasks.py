from celery import shared_task

from core import notifications, services


@shared_task(ignore_result=True)
def send_second_factor_notice(user_id, change, at, ip_address=None, details=None):
    return notifications.send_second_factor_notice(
        user_id=user_id, change=change, at=at, ip_address=ip_address, details=details
    )


@shared_task(ignore_result=True)
def link_audit_events():
    return services.link_audit_events()


@shared_task(ignore_result=True)
def publish_audit_checkpoint():
    checkpoint = services.publish_audit_checkpoint()
    return checkpoint.size if checkpoint else None
