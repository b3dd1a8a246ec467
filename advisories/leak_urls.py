from django.urls import path

from advisories import views

app_name = "leaks"

urlpatterns = [
    path("", views.leak_incident_list, name="list"),
    path("<int:incident_id>/", views.leak_incident_detail, name="detail"),
    path("<int:incident_id>/samples/", views.leak_sample_add, name="add_sample"),
    path("<int:incident_id>/violations/", views.leak_violation_open, name="open_violation"),
]
