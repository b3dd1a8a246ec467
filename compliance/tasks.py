from celery import shared_task

from compliance import services


@shared_task(ignore_result=True)
def send_agreement_reminders():
    return services.send_due_agreement_reminders()
