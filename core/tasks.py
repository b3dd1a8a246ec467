from celery import shared_task

from core import notifications


@shared_task(ignore_result=True)
def send_second_factor_notice(user_id, change, at, ip_address=None, details=None):
    return notifications.send_second_factor_notice(
        user_id=user_id, change=change, at=at, ip_address=ip_address, details=details
    )
