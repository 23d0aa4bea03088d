"""Values kept while the database they were read from has not changed (the view stamp)."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Hashable


class StampedCache:
    """At most ``size`` values, each kept with the view stamp read before its rows; a value is
    returned only while the stamp is the same, the least recently used goes first.

    One per database (per ``UnitOfWorkFactory``): two instances on one database each keep their
    own, and each learns of the other's writes from the stamp.
    """

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, tuple[int, Any]] = OrderedDict()

    def get(self, key: Hashable, stamp: int | None) -> Any | None:
        item = self._items.get(key)
        if item is None or stamp is None or item[0] != stamp:
            return None
        self._items.move_to_end(key)
        return item[1]

    def put(self, key: Hashable, stamp: int | None, value: Any) -> None:
        if stamp is None or self.size <= 0:
            return
        self._items[key] = (stamp, value)
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
