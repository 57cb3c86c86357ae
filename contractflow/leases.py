"""Named leases in the service's own database: one holder at a time, taken over on expiry.

The outbox relay holds one so that, with several worker replicas, a single relay publishes
and per-contract event order survives; a crashed holder's lease lapses after its TTL.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from contractflow.db import Base, UTCDateTime


class Lease(Base):
    __tablename__ = "lease"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


def try_acquire(
    sessions: sessionmaker[Session], name: str, holder: str, ttl: dt.timedelta, now: dt.datetime
) -> bool:
    """Take or renew the lease; False while someone else holds an unexpired one."""
    session = sessions()
    try:
        lease = session.scalars(select(Lease).where(Lease.name == name).with_for_update()).first()
        if lease is None:
            session.add(Lease(name=name, holder=holder, expires_at=now + ttl))
        elif lease.holder == holder or lease.expires_at <= now:
            lease.holder = holder
            lease.expires_at = now + ttl
        else:
            session.rollback()
            return False
        session.commit()
        return True
    except IntegrityError:  # another replica inserted the first row at the same moment
        session.rollback()
        return False
    finally:
        session.close()


def release(sessions: sessionmaker[Session], name: str, holder: str) -> None:
    with sessions.begin() as session:
        lease = session.get(Lease, name)
        if lease is not None and lease.holder == holder:
            session.delete(lease)
