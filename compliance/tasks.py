from celery import shared_task

from compliance import services


@shared_task(ignore_result=True)
def send_agreement_reminders():
    return services.send_due_agreement_reminders()


@shared_task(ignore_result=True)
def send_enforcement_notice(action_id):
    return services.send_enforcement_notice(action_id=action_id)


@shared_task(ignore_result=True)
def send_appeal_decision(appeal_id):
    return services.send_appeal_decision(appeal_id=appeal_id)


@shared_task(ignore_result=True)
def apply_due_jurisdiction_policies():
    return len(services.apply_due_jurisdiction_policies())


@shared_task(ignore_result=True)
def send_policy_change_notices(policy_id):
    return services.send_policy_change_notices(policy_id=policy_id)


@shared_task(ignore_result=True)
def open_due_reviews():
    return len(services.open_due_reviews())
