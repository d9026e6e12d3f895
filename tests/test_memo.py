"""memo.Memo: bounded, oldest out first, safe for threads, and it never shows its entries."""

from __future__ import annotations

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


def test_a_result_computed_across_a_clear_is_not_kept() -> None:
    """A thread that computed under settings another thread's clear dropped (a SECRET_KEY
    change) does not put its stale result back."""
    memo: Memo[str, str] = Memo(8)
    since = memo.generation
    memo.clear()  # meanwhile, elsewhere
    assert memo.put("value", "stale", since=since) == "stale"
    assert memo.get("value") is None
    memo.put("value", "fresh", since=memo.generation)
    assert memo.get("value") == "fresh"
