"""The import path, wired from the import functions' settings."""

from __future__ import annotations

from listrak_kit.aws.import_ledger import DynamoImportLedger
from listrak_kit.aws.objects import S3Objects
from listrak_kit.aws.queue import SqsTasks
from listrak_kit.errors import ConfigurationError
from listrak_kit.imports.chunks import ChunkLimits
from listrak_kit.imports.contacts import ContactsConfig, ContactSync
from listrak_kit.imports.direct import DirectImporter
from listrak_kit.imports.pipeline import ImportPipeline
from listrak_kit.listrak.contacts_api import ContactsApi
from listrak_kit.settings import DataSettings, ImportSettings
from listrak_kit.wiring import authorized, count, data_api


def contact_sync(settings: ImportSettings) -> ContactSync | None:
    if not (settings.CONTACTS_LIST_ID or settings.CONTACTS_LIST_NAME):
        return None
    if not (settings.LISTRAK_EMAIL_CREDENTIALS_SECRET and settings.LISTRAK_EMAIL_TOKEN_CACHE_SECRET):
        raise ConfigurationError("contacts imports need the Email integration's secrets (LISTRAK_EMAIL_..._SECRET)")
    return ContactSync(
        ContactsApi(
            authorized(
                settings,
                integration="email",
                credentials_secret=settings.LISTRAK_EMAIL_CREDENTIALS_SECRET,
                cache_secret=settings.LISTRAK_EMAIL_TOKEN_CACHE_SECRET,
                base_url=settings.LISTRAK_EMAIL_API_URL,
            )
        ),
        ContactsConfig(
            list_id=settings.CONTACTS_LIST_ID,
            list_name=settings.CONTACTS_LIST_NAME,
            resubscribe=settings.CONTACTS_RESUBSCRIBE,
            per_contact_max=settings.CONTACTS_PER_CONTACT_MAX,
            poll_seconds=settings.CONTACTS_POLL_SECONDS,
        ),
    )


def import_pipeline(settings: ImportSettings) -> ImportPipeline:
    return ImportPipeline(
        contacts=contact_sync(settings),
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
