"""Every table's module imported once, so Alembic and tests see the whole schema."""

from __future__ import annotations

from booklnk.audit import models as _audit  # noqa: F401
from booklnk.booking import feed_models as _booking_feeds  # noqa: F401
from booklnk.booking import models as _booking  # noqa: F401
from booklnk.booking.classes import models as _classes  # noqa: F401
from booklnk.business_types import models as _business_types  # noqa: F401
from booklnk.catalog import models as _catalog  # noqa: F401
from booklnk.customers import models as _customers  # noqa: F401
from booklnk.db.base import Base
from booklnk.idempotency import models as _idempotency  # noqa: F401
from booklnk.integrations import models as _integrations  # noqa: F401
from booklnk.notifications import models as _notifications  # noqa: F401
from booklnk.payments import models as _payments  # noqa: F401
from booklnk.tenancy import models as _tenancy  # noqa: F401

metadata = Base.metadata
