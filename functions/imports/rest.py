"""POST /imports: a small direct load, validated record by record; the valid ones go to Listrak."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from pydantic import BaseModel, ConfigDict, Field

from listrak_kit import snapstart
from listrak_kit.api import json_response, rest_api
from listrak_kit.imports.entities import DataEntity
from listrak_kit.observability import observed
from listrak_kit.services import direct_importer
from listrak_kit.settings import DataSettings, load_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from listrak_kit.imports.direct import DirectImporter

app = rest_api()


class DirectImport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entity: DataEntity
    records: Annotated[list[Any], Field(min_length=1, max_length=1000)]


@cache
def importer() -> DirectImporter:
    return direct_importer(load_settings(DataSettings))


@app.post("/imports")
def post_import(body: Annotated[DirectImport, Body()]) -> Response[dict]:
    outcome = importer().import_records(body.entity, body.records)
    return json_response(200, outcome.__dict__)


def _prime() -> None:
    from listrak_kit.imports.fast import compile_schemas

    importer()
    compile_schemas()
    snapstart.rehearse(app, "POST", "/imports")


snapstart.install(_prime)


@observed(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
