"""Start-up steps shared by the API, the worker and the CLI."""

from __future__ import annotations

import hashlib
import sys

from pydantic import ValidationError

from booklnk.business_types import loader, service
from booklnk.config import Settings, configuration_problems
from booklnk.db.database import Database
from booklnk.db.embedded import EmbeddedUnavailable, embedded_database_url
from booklnk.notifications.email import SmtpConfig
from booklnk.notifications.sms import CequensConfig
from booklnk.notifications.whatsapp import WhatsAppConfig
from booklnk.payments.checkout import Callbacks
from booklnk.payments.kashier.config import KashierConfig
from booklnk.tenancy.credentials import Passwords

# A refused configuration exits with this code (as a command-line usage error does).
CONFIGURATION_EXIT = 2


def load_settings() -> Settings:
    """The settings from the environment; a refused configuration prints one line per
    problem on stderr (never a value, never a traceback) and exits 2."""
    try:
        return Settings()
    except ValidationError as exc:
        for line in configuration_problems(exc):
            print(f"configuration error: {line}", file=sys.stderr)
        raise SystemExit(CONFIGURATION_EXIT) from None


def database_url(settings: Settings) -> str:
    """The configured server, or the embedded one when DATABASE_URL is unset."""
    if settings.database_url is None:
        try:
            return embedded_database_url(settings.embedded_pg_dir)
        except EmbeddedUnavailable as exc:
            print(f"configuration error: {exc}", file=sys.stderr)
            raise SystemExit(CONFIGURATION_EXIT) from None
    return asyncpg_url(settings.database_url.get_secret_value())


def asyncpg_url(url: str) -> str:
    for prefix in ("postgresql://", "postgres://", "postgresql+psycopg://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url.removeprefix(prefix)
    return url


# Kashier is told to call this path (the app gives it a body limit of its own), and to send
# the customer back to the other.
KASHIER_WEBHOOK_PATH = "/v1/webhooks/kashier"
RETURN_PATH = "/v1/payments/kashier/return"


def checkout_callbacks(settings: Settings) -> Callbacks:
    """Where Kashier sends the customer back and posts its webhooks: this deployment."""
    base = settings.public_base_url.rstrip("/")
    return Callbacks(redirect_url=f"{base}{RETURN_PATH}", webhook_url=f"{base}{KASHIER_WEBHOOK_PATH}")


def kashier_config(settings: Settings) -> KashierConfig:
    """Real Kashier (test or live) or the simulator: only these values differ."""
    return KashierConfig.create(
        mid=settings.kashier_mid,
        api_key=settings.kashier_api_key,
        secret_key=settings.kashier_secret_key,
        mode=settings.kashier_mode,
        hpp_url=settings.kashier_hpp_url,
        api_url=settings.kashier_api_url,
        fep_url=settings.kashier_fep_url,
        timeout_seconds=settings.kashier_timeout_seconds,
    )


def smtp_config(settings: Settings) -> SmtpConfig:
    """A provider's relay or the local mail simulator: only these values differ."""
    return SmtpConfig(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.mail_from,
        security=settings.smtp_security,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        timeout_seconds=settings.smtp_timeout_seconds,
    )


def cequens_config(settings: Settings) -> CequensConfig:
    """The SMS gateway or the simulator: only these values differ. Delivery reports come
    back to our own URL, signed with a key derived from the server's secret."""
    return CequensConfig(
        api_url=settings.cequens_api_url,
        username=settings.cequens_username,
        api_key=settings.cequens_api_key.get_secret_value(),
        sender_name=settings.sms_sender_name,
        report_url=f"{settings.public_base_url.rstrip('/')}/v1/webhooks/cequens",
        report_secret=derived_key(settings, "sms delivery reports"),
        timeout_seconds=settings.sms_timeout_seconds,
        max_segments=settings.sms_max_segments,
    )


def whatsapp_config(settings: Settings) -> WhatsAppConfig:
    """Meta's Cloud API or the simulator: only these values differ."""
    return WhatsAppConfig(
        phone_number_id=settings.whatsapp_phone_number_id,
        access_token=settings.whatsapp_access_token.get_secret_value(),
        app_secret=settings.whatsapp_app_secret.get_secret_value(),
        verify_token=settings.whatsapp_verify_token.get_secret_value(),
        api_url=settings.whatsapp_api_url,
        api_version=settings.whatsapp_api_version,
        timeout_seconds=settings.whatsapp_timeout_seconds,
    )


def derived_key(settings: Settings, purpose: str) -> str:
    """A key of its own for `purpose`, derived from the server's secret: nothing else is
    signed with the key that signs access tokens."""
    material = f"booklnk {purpose}|{settings.jwt_secret.get_secret_value()}".encode()
    return hashlib.sha256(material).hexdigest()


def passwords_for(settings: Settings) -> Passwords:
    return Passwords(time_cost=settings.password_time_cost, memory_kib=settings.password_memory_kib)


def open_database(settings: Settings) -> Database:
    """The application's pool: its own login when configured, else the owner's."""
    url = (
        asyncpg_url(settings.app_database_url.get_secret_value())
        if settings.app_database_url is not None
        else database_url(settings)
    )
    return Database(
        url,
        app_role=settings.db_app_role,
        pool_size=settings.db_pool_size,
        pool_timeout=settings.db_pool_timeout_seconds,
    )


async def load_business_types(db: Database, settings: Settings) -> None:
    """Validate the built-in and deployment-folder definitions and store them."""
    builtin = loader.builtin_definitions()
    folders = [settings.business_types_dir] if settings.business_types_dir else []
    # Loaded together so a folder file cannot silently redefine a built-in key.
    extra = loader.load_definitions(folders)[len(builtin) :]
    async with db.transaction() as session:
        await service.sync_definitions(session, builtin, source="builtin")
        await service.sync_definitions(session, extra, source="folder")
