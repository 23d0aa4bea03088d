"""The unit of work: one transaction, owned by the caller, with the repositories on it."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db import VIEW_WRITE
from storage.models import ViewStamp
from storage.repositories import (
    AuditRepository,
    GroupRepository,
    LeaveRepository,
    MemberRepository,
    SentMessageRepository,
    SubmissionRepository,
    UnitRepository,
)
from storage.stamped_cache import StampedCache
from storage.tallies import TallyRepository


class UnitOfWork:
    """``async with uow:`` commits when the block succeeds and rolls back when it raises.

    Repositories only flush; the commit happens here, once, so that a reply is sent only after
    everything it reports is durable.
    """

    session: AsyncSession

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession],
                 view_cache: StampedCache | None = None) -> None:
        self._sessionmaker = sessionmaker
        # Judged views kept between transactions (handlers.views.build_view); None: none kept.
        self.view_cache = view_cache

    async def __aenter__(self) -> "UnitOfWork":
        self.session = self._sessionmaker()
        self.units = UnitRepository(self.session)
        self.groups = GroupRepository(self.session)
        self.members = MemberRepository(self.session)
        self.submissions = SubmissionRepository(self.session)
        self.sent = SentMessageRepository(self.session)
        self.audit = AuditRepository(self.session)
        self.tallies = TallyRepository(self.session)
        self.leaves = LeaveRepository(self.session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None:
                await self._stamp_view_writes()
                await self.session.commit()
            else:
                await self.session.rollback()
        finally:
            await self.session.close()

    async def view_stamp(self) -> int | None:
        """The view stamp as committed (None on a schema without its row). Read it before the
        rows of a view: the view is then at least as new as the stamp it is kept under."""
        return (await self.session.execute(select(ViewStamp.version).where(ViewStamp.id == 1))).scalar_one_or_none()

    async def writes_views(self) -> bool:
        """This transaction has written a table the views read (not yet committed)."""
        if not self.session.in_transaction():
            return False
        return bool((await self.session.connection()).info.get(VIEW_WRITE))

    async def _stamp_view_writes(self) -> None:
        if await self.writes_views():
            # A plain statement: the ORM's UPDATE machinery cost more than the UPDATE itself.
            await (await self.session.connection()).exec_driver_sql(
                "UPDATE view_stamp SET version = version + 1 WHERE id = 1")


class UnitOfWorkFactory:
    """Makes a fresh unit of work per incoming message or job."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker
        self.view_cache = StampedCache()

    def __call__(self) -> UnitOfWork:
        return UnitOfWork(self.sessionmaker, self.view_cache)
