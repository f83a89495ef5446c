"""The import entities, named once: each is a folder of the drop bucket and a value of `POST /imports`' `entity`.

The Data Import API's record types (records.ENTITIES holds their rules, keyed by these names) and contacts, which
go to a Listrak list through the Email API. The Literals are the source; the tuples are read from them, so mypy
checks every use of a name against the same list.
"""

from __future__ import annotations

from typing import Literal, get_args

DataEntity = Literal["customers", "orders", "products", "reviews", "rating-summaries"]
ImportEntity = Literal[DataEntity, "contacts"]

DATA_ENTITIES: tuple[DataEntity, ...] = get_args(DataEntity)
IMPORT_ENTITIES: tuple[ImportEntity, ...] = get_args(ImportEntity)
