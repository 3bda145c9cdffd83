from celery import shared_task

from . import services


@shared_task(name="saft.run_import")
def run_saft_import(import_id: int) -> None:
    services.run_import(import_id)
