"""The partner API (advisories/api, docs/api.md): Django REST framework and the OpenAPI schema (drf-spectacular)."""

from .environment import env

# Partner API (advisories/api, docs/api.md). Tokens only: no session authentication, so no CSRF surface.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["advisories.api.authentication.ApiTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["advisories.api.permissions.HasPartnerAccess"],
    # Counted in the default cache: shared by every node in production (Redis), per process otherwise.
    "DEFAULT_THROTTLE_CLASSES": ["advisories.api.throttling.ApiTokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "api_token": env.str("FOREWARN_API_RATE", default="600/minute"),
        # Refused tokens per client address (advisories.api.throttling.RefusedTokenThrottle).
        "api_token_refused": env.str("FOREWARN_API_REFUSAL_RATE", default="20/minute"),
    },
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Forewarn partner API",
    "DESCRIPTION": "Advisories released to your organisation, under the same entitlement rule as the portal. "
    "Authenticate with an API token created by a partner admin in the portal.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and the docs are public and ignore tokens; the docs load no CDN asset.
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    # No validator badge: Swagger UI would fetch it from validator.swagger.io.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
# One schema name for the protection states, used by several fields of the protection endpoints.
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] = {"ProtectionStateEnum": "advisories.models.ProtectionState"}
