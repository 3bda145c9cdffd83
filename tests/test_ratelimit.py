"""The shared limiter: in Redis when REDIS_URL is set (as in CI), in-process otherwise."""

import threading
import time
import uuid

from django.conf import settings

from backoffice.ratelimit import SlidingWindowLimiter, effective_limit


def _limiter(window: float) -> SlidingWindowLimiter:
    return SlidingWindowLimiter(redis_url=settings.REDIS_URL, window_seconds=window)


def test_it_admits_up_to_the_limit_then_names_the_wait():
    limiter = _limiter(window=2.0)
    key = f"test-{uuid.uuid4().hex}"
    assert [limiter.try_acquire(key, 3) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.try_acquire(key, 3)
    assert 0 < wait <= 2.0


def test_it_frees_slots_when_the_window_slides():
    limiter = _limiter(window=0.5)
    key = f"test-{uuid.uuid4().hex}"
    for _ in range(2):
        assert limiter.try_acquire(key, 2) == 0.0
    waited = limiter.acquire(key, 2, max_wait=5)
    assert 0 < waited <= 0.6


def test_it_keeps_separate_endpoints_apart():
    limiter = _limiter(window=5.0)
    key = uuid.uuid4().hex
    assert limiter.try_acquire(f"{key}:vouchers", 1) == 0.0
    assert limiter.try_acquire(f"{key}:vouchers", 1) > 0
    assert limiter.try_acquire(f"{key}:accounts", 1) == 0.0


def test_it_never_admits_more_than_the_limit_across_threads():
    # Several limiter instances stand for several workers sharing one store.
    key = f"test-{uuid.uuid4().hex}"
    admitted = []
    lock = threading.Lock()

    def worker():
        limiter = _limiter(window=30.0)
        for _ in range(20):
            if limiter.try_acquire(key, 25) == 0.0:
                with lock:
                    admitted.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if settings.REDIS_URL:
        assert len(admitted) == 25
    else:
        # In-process limiters are per instance: each of the four admits its own 20.
        assert len(admitted) == 80


def test_it_stays_a_little_under_the_quota():
    assert effective_limit(600) == 594
    assert effective_limit(60) == 59
    assert effective_limit(1) == 1
