"""The browser tests' Celery worker shares the live server's test database and broker.

(No browser here, so no `browser` marker: this proves the helper the walk-through uses.)"""

from backoffice.tasks import ping

from .worker import celery_worker, organization_name, visma_env


def test_it_runs_tasks_in_a_worker_that_reads_the_live_servers_test_database(live_server, org):
    with celery_worker(visma_env(live_server.url)) as proc:
        assert ping.delay("hei").get(timeout=30) == "pong:hei"
        # The organisation exists only in the test database this test committed it to.
        assert organization_name.delay("fjordkafe").get(timeout=30) == "Fjordkafé AS"
        assert organization_name.delay("no-such-org").get(timeout=30) is None
        assert proc.poll() is None, "the worker died"
    assert proc.poll() is not None, "the worker outlived its block"
