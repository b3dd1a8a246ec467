from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from core.views import home

admin.site.site_header = "Forewarn program management"
admin.site.site_title = "Forewarn"

urlpatterns = [
    path("", home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("portal/", include("advisories.urls")),
    path("program/leaks/", include("advisories.leak_urls")),
    path("manage/", admin.site.urls),
]
