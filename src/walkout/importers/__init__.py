"""Importers: turn recordings made outside walkout into a PROTOCOL store file and recording."""

from walkout.importers.aifi import AifiFormatError, ImportReport, import_aifi

__all__ = ["AifiFormatError", "ImportReport", "import_aifi"]
