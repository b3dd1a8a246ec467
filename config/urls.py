from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from core import views as core_views
from program import urls as program_urls

admin.site.site_header = "Forewarn program management"
admin.site.site_title = "Forewarn"

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("mfa/setup/", core_views.mfa_setup, name="mfa_setup"),
    path("mfa/verify/", core_views.mfa_verify, name="mfa_verify"),
    path("account/security/", core_views.account_security, name="account_security"),
    path("account/security/confirm/", core_views.account_reverify, name="account_reverify"),
    path(
        "account/security/authenticators/new/",
        core_views.account_add_authenticator,
        name="account_add_authenticator",
    ),
    path(
        "account/security/authenticators/<int:device_id>/remove/",
        core_views.account_remove_authenticator,
        name="account_remove_authenticator",
    ),
    path("account/security/recovery-codes/", core_views.account_recovery_codes, name="account_recovery_codes"),
    path("password-reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("password-reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("portal/", include("advisories.urls")),
    # One login for everyone (password, then second factor): the admin's own login page is not used.
    path("manage/login/", RedirectView.as_view(pattern_name="login", query_string=True)),
    # Every staff page: program/urls.py.
    path("program/", include("program.urls")),
    # One "compliance" namespace for the staff contracts and compliance pages (program/urls.py) and the partners'
    # agreements and appeals (compliance/urls.py).
    path(
        "",
        include(
            (
                [
                    path("program/", include(program_urls.compliance_patterns)),
                    path("portal/", include("compliance.urls")),
                ],
                "compliance",
            )
        ),
    ),
    path("", include("partners.urls")),
    path("api/v1/", include("advisories.api.urls")),
    # The CSAF trusted provider directory (docs/csaf-provider.md): partner tokens, like the API.
    path(".well-known/csaf/", include("advisories.csaf.urls")),
    path("manage/", admin.site.urls),
]
