from celery import shared_task

from partners import services


@shared_task(ignore_result=True)
def end_due_suspensions():
    return len(services.end_due_suspensions())
