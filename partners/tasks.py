from celery import shared_task

from partners import services


@shared_task(ignore_result=True)
def end_due_suspensions():
    return len(services.end_due_suspensions())


@shared_task(ignore_result=True)
def send_application_email(application_id, kind):
    services.send_application_email(application_id=application_id, kind=kind)


@shared_task(ignore_result=True)
def send_invitation(invitation_id):
    return services.send_invitation(invitation_id=invitation_id)


@shared_task(ignore_result=True)
def send_partner_notice(event_id, user_ids):
    return services.send_partner_notice(event_id=event_id, user_ids=user_ids)


@shared_task(ignore_result=True)
def send_duplicate_application_notice(email, legal_name, reason):
    services.send_duplicate_application_notice(email=email, legal_name=legal_name, reason=reason)
