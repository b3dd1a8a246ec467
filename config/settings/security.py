"""Authentication, sessions and the HTTP security settings: passwords, cookies, the client address behind proxies,
Content-Security-Policy, login throttling, multi-factor authentication and object permissions."""

from datetime import timedelta

from .environment import env

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses any authentication while the client is locked out after repeated failures.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Idle expiry: every request renews the session, which ends after this many seconds without one.
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_TIMEOUT_SECONDS", default=30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# The client address (core.http.client_ip, the one source for lockout, rate limits, throttling, audit and download
# records): how many reverse proxies stand in front of the web nodes, and/or the networks they sit in. With neither,
# X-Forwarded-For is ignored.
TRUSTED_PROXY_COUNT = env.int("FOREWARN_TRUSTED_PROXY_COUNT", default=0)
TRUSTED_PROXIES = env.list("FOREWARN_TRUSTED_PROXIES", default=[])

# Content-Security-Policy: nothing inline, nothing from another origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Login throttling: after this many failures for one account from one address, that pair is locked out.
AXES_FAILURE_LIMIT = env.int("FOREWARN_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("FOREWARN_LOGIN_LOCKOUT_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_USERNAME_FORM_FIELD = "username"
# Behind a reverse proxy every client would otherwise share the proxy's address (one lockout for everyone).
AXES_CLIENT_IP_CALLABLE = "core.http.client_ip"
# django-ratelimit's "ip" key (the /apply/ limit) reads the same address.
RATELIMIT_IP_META_KEY = "core.http.client_ip"

# Multi-factor authentication (TOTP, with single-use recovery codes) is required of every user; see
# core.middleware.RequireMultiFactorMiddleware. There is deliberately no setting to turn it off.
OTP_TOTP_ISSUER = "Forewarn"

# Anonymous access is never granted object permissions: no guardian anonymous user.
ANONYMOUS_USER_NAME = None
GUARDIAN_MONKEY_PATCH_USER = False
