"""The partner REST API, v1 (docs/api.md): token authentication, the same entitlement rule and the same serving
code path as the portal."""
