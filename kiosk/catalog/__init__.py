"""The service catalog in the core: its values, one-form merging, search and the "most used" list.

Parsed from the hall's catalog JSON (`kiosk.catalog.parsing`), held as an immutable `Catalog`
(`kiosk.catalog.catalog`), searched in Chinese, pinyin or English (`kiosk.catalog.search`), and
ranked by how often this terminal's citizens submit each item (`kiosk.catalog.usage`).
"""

from .catalog import Catalog, CatalogSource
from .form_spec import merge_form
from .model import (
    DEFAULT_TEXT_MAX_LENGTH,
    CatalogError,
    Choice,
    Department,
    FieldType,
    FormField,
    FormSlot,
    FormSpec,
    Material,
    MaterialForm,
    ServiceItem,
    Topic,
)
from .parsing import CatalogDelta, parse_catalog_answer, parse_catalog_file
from .search import MatchTier, SearchHit, SearchIndex, fold
from .usage import UsageCount, most_used, read_usage, record_submission

__all__ = [
    "DEFAULT_TEXT_MAX_LENGTH",
    "Catalog",
    "CatalogDelta",
    "CatalogError",
    "CatalogSource",
    "Choice",
    "Department",
    "FieldType",
    "FormField",
    "FormSlot",
    "FormSpec",
    "MatchTier",
    "Material",
    "MaterialForm",
    "SearchHit",
    "SearchIndex",
    "ServiceItem",
    "Topic",
    "UsageCount",
    "fold",
    "merge_form",
    "most_used",
    "parse_catalog_answer",
    "parse_catalog_file",
    "read_usage",
    "record_submission",
]
