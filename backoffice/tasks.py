from celery import shared_task


@shared_task
def ping(value: str) -> str:
    """A trivial task: proves that a worker picks up work from the broker and answers."""
    return f"pong:{value}"
