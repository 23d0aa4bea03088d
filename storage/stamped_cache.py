"""Values kept while the database they were read from has not changed (the view stamp)."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Hashable

# A department's judged view of 18,000 people keeps ≈ 17 MB (bench/README.md): room for two
# keeps the running bot within SPEC §5's 150 MB. A nation's department view (900,000 people)
# is never kept: it would not fit.
DEFAULT_CAPACITY = 40_000


class StampedCache:
    """Values, each kept with the view stamp read before its rows and a weight (a view's number
    of people); a value is returned only while the stamp is the same. When the weights exceed
    ``capacity`` the least recently used go first; a value heavier than the whole is not kept.

    One per database (per ``UnitOfWorkFactory``): two instances on one database each keep their
    own, and each learns of the other's writes from the stamp.
    """

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = capacity
        self._items: OrderedDict[Hashable, tuple[int, int, Any]] = OrderedDict()
        self._weight = 0

    def get(self, key: Hashable, stamp: int | None) -> Any | None:
        item = self._items.get(key)
        if item is None or stamp is None or item[0] != stamp:
            return None
        self._items.move_to_end(key)
        return item[2]

    def put(self, key: Hashable, stamp: int | None, value: Any, weight: int = 1) -> None:
        self._drop(key)
        if stamp is None or weight > self.capacity:
            return
        self._items[key] = (stamp, weight, value)
        self._weight += weight
        while self._weight > self.capacity:
            self._drop(next(iter(self._items)))

    def _drop(self, key: Hashable) -> None:
        item = self._items.pop(key, None)
        if item is not None:
            self._weight -= item[1]

    def clear(self) -> None:
        self._items.clear()
        self._weight = 0

    def __len__(self) -> int:
        return len(self._items)
