"""The unit of work: one transaction, owned by the caller, with the repositories on it."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.repositories import (
    AuditRepository,
    GroupRepository,
    LeaveRepository,
    MemberRepository,
    SentMessageRepository,
    SubmissionRepository,
    UnitRepository,
)
from storage.tallies import TallyRepository


class UnitOfWork:
    """``async with uow:`` commits when the block succeeds and rolls back when it raises.

    Repositories only flush; the commit happens here, once, so that a reply is sent only after
    everything it reports is durable.
    """

    session: AsyncSession

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

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
                await self.session.commit()
            else:
                await self.session.rollback()
        finally:
            await self.session.close()


class UnitOfWorkFactory:
    """Makes a fresh unit of work per incoming message or job."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker

    def __call__(self) -> UnitOfWork:
        return UnitOfWork(self.sessionmaker)
