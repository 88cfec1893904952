"""The store service: accounts, entry QR tokens and gate admission over HTTP (FastAPI)."""

from walkout.service.app import cli_add_account, cli_serve, create_app
from walkout.service.settings import Settings

__all__ = ["Settings", "cli_add_account", "cli_serve", "create_app"]
