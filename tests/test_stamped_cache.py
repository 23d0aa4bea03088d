"""storage.stamped_cache: a value only under its own stamp; weights bounded, oldest use first out."""

from storage.stamped_cache import StampedCache


def test_a_value_is_returned_only_under_its_stamp() -> None:
    cache = StampedCache(capacity=10)
    cache.put("dept", 7, "view")
    assert cache.get("dept", 7) == "view"
    assert cache.get("dept", 8) is None
    assert cache.get("dept", None) is None
    cache.put("x", None, "never")  # no stamp (a schema without its row): nothing kept
    assert len(cache) == 1


def test_weights_are_bounded_least_recently_used_first() -> None:
    cache = StampedCache(capacity=10)
    cache.put("a", 1, "A", weight=4)
    cache.put("b", 1, "B", weight=4)
    assert cache.get("a", 1) == "A"  # a is now the more recent
    cache.put("c", 1, "C", weight=4)  # 12 > 10: b goes
    assert cache.get("b", 1) is None and cache.get("a", 1) == "A" and cache.get("c", 1) == "C"
    cache.put("a", 2, "A2", weight=4)  # replacing a key does not count it twice
    assert len(cache) == 2 and cache.get("c", 1) == "C"
    cache.put("huge", 1, "H", weight=11)  # heavier than the whole: not kept, nothing evicted
    assert cache.get("huge", 1) is None and len(cache) == 2
