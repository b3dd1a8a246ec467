"""The staff pages under /program/, one module per area; program/urls.py routes every /program/ URL."""
