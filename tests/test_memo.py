"""memo.Memo: bounded, oldest out first, safe for threads, and it never shows its entries."""

from __future__ import annotations

import threading

from giosg_django.memo import Memo


def test_keeps_at_most_size_entries_dropping_the_oldest() -> None:
    memo: Memo[int, str] = Memo(3)
    for n in range(5):
        assert memo.put(n, f"v{n}") == f"v{n}"
    assert len(memo) == 3
    assert [memo.get(n) for n in range(5)] == [None, None, "v2", "v3", "v4"]
    assert memo.newest() == "v4"


def test_put_again_makes_an_entry_the_newest() -> None:
    memo: Memo[str, int] = Memo(2)
    memo.put("a", 1)
    memo.put("b", 2)
    memo.put("a", 3)  # now the newest: "b" goes first
    memo.put("c", 4)
    assert (memo.get("a"), memo.get("b"), memo.get("c")) == (3, None, 4)


def test_clear_and_repr_never_show_entries() -> None:
    memo: Memo[str, str] = Memo(8)
    memo.put("cookie-value", "eyJ-token")
    assert repr(memo) == "<Memo 1/8>"
    memo.clear()
    assert len(memo) == 0 and memo.get("cookie-value") is None and memo.newest() is None


def test_many_threads_never_pass_the_bound_nor_lose_the_map() -> None:
    memo: Memo[tuple[int, int], int] = Memo(64)
    errors: list[BaseException] = []

    def fill(thread: int) -> None:
        try:
            for n in range(2000):
                memo.put((thread, n), n)
                memo.get((thread, n - 1))
        except BaseException as error:  # pragma: no cover - the failure this test looks for
            errors.append(error)

    threads = [threading.Thread(target=fill, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(memo) == 64
