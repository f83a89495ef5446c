"""The import entities are named once (imports/entities.py); every other list of them is read from there."""

from __future__ import annotations

import json

import pytest

from listrak_kit.imports.entities import DATA_ENTITIES, IMPORT_ENTITIES
from listrak_kit.imports.records import ENTITIES
from listrak_kit.imports.sources import ENTITY_PREFIXES, classify
from local_stack import ROOT


def test_every_data_entity_has_its_rules_and_every_import_entity_its_folder():
    assert tuple(ENTITIES) == DATA_ENTITIES
    assert (*DATA_ENTITIES, "contacts") == IMPORT_ENTITIES
    assert tuple(f"{e}/" for e in IMPORT_ENTITIES) == ENTITY_PREFIXES
    assert [classify(f"{e}/x.csv").entity for e in IMPORT_ENTITIES] == list(IMPORT_ENTITIES)


def test_post_imports_takes_the_data_entities():
    document = json.loads((ROOT / "openapi.json").read_text(encoding="utf-8"))
    entity = document["components"]["schemas"]["DirectImport"]["properties"]["entity"]
    assert tuple(entity["enum"]) == DATA_ENTITIES


def test_make_import_takes_the_import_entities(capsys):
    from local_stack import import_file

    with pytest.raises(SystemExit):
        import_file.main(["--entity", "nope", "x.csv"])
    said = capsys.readouterr().err.split("choose from", 1)[1]
    assert [e for e in IMPORT_ENTITIES if e in said] == list(IMPORT_ENTITIES)
