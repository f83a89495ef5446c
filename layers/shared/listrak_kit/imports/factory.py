"""The import path, wired from the import functions' settings."""

from __future__ import annotations

from listrak_kit.aws.objects import S3Objects
from listrak_kit.aws.queue import SqsTasks
from listrak_kit.imports.direct import DirectImporter
from listrak_kit.imports.ledger import DynamoImportLedger
from listrak_kit.imports.pipeline import ChunkLimits, ImportPipeline
from listrak_kit.settings import DataSettings, ImportSettings
from listrak_kit.wiring import count, data_api


def import_pipeline(settings: ImportSettings) -> ImportPipeline:
    return ImportPipeline(
        objects=S3Objects(settings.IMPORT_BUCKET),
        data_api=data_api(settings),
        ledger=DynamoImportLedger(settings.TABLE_NAME),
        tasks=SqsTasks(settings.IMPORT_QUEUE_URL),
        limits=ChunkLimits(settings.IMPORT_CHUNK_MAX_RECORDS, settings.IMPORT_CHUNK_MAX_BYTES),
        part_bytes=settings.IMPORT_PART_BYTES,
        count=count,
    )


def direct_importer(settings: DataSettings) -> DirectImporter:
    return DirectImporter(
        data_api=data_api(settings),
        limits=ChunkLimits(settings.IMPORT_CHUNK_MAX_RECORDS, settings.IMPORT_CHUNK_MAX_BYTES),
    )
