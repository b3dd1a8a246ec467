from django.urls import path

from partners import views

app_name = "partners"

urlpatterns = [
    path("apply/", views.apply, name="apply"),
    path("apply/sent/", views.application_sent, name="application_sent"),
    path("apply/confirm/<str:token>/", views.verify_application, name="verify_application"),
    path("invitations/<str:token>/", views.accept_invitation, name="accept_invitation"),
    path("portal/team/", views.team, name="team"),
    path("portal/team/members/<int:membership_id>/deactivate/", views.deactivate_member, name="deactivate_member"),
    path("portal/team/invitations/<int:invitation_id>/revoke/", views.revoke_invitation, name="revoke_invitation"),
]
