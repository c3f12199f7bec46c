"""RigFit's catalog: GPUs, models, weight formats, runtimes and the rest, as data."""

from catalog.loader import CATALOG_DIR, CatalogError, load_records

__all__ = ["CATALOG_DIR", "CatalogError", "load_records"]
