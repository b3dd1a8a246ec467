from celery import shared_task

from compliance import services


@shared_task(ignore_result=True)
def send_agreement_reminders():
    return services.send_due_agreement_reminders()


@shared_task(ignore_result=True)
def apply_due_jurisdiction_policies():
    return len(services.apply_due_jurisdiction_policies())


@shared_task(ignore_result=True)
def open_due_reviews():
    return len(services.open_due_reviews())
