"""Settings: built once at start-up from the environment and passed down; nothing reads
the environment at import time."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Literal, get_args
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

_DEV_JWT_SECRET = "dev-only-insecure-jwt-secret-change-me-0123456789"
_SIM_API_KEY = "sim-payment-api-key"
_SIM_SECRET_KEY = "sim-secret$key"
_SIM_MID = "MID-0000-000"
MessageChannel = Literal["email", "sms", "whatsapp"]
# The messaging simulator's (`booklnk messages-sim`) credentials: accepted by it, refused in production.
_SIM_CEQUENS_API_KEY = "sim-cequens-api-key"
_SIM_WHATSAPP_TOKEN = "sim-whatsapp-access-token"
_SIM_WHATSAPP_APP_SECRET = "sim-whatsapp-app-secret"
_SIM_WHATSAPP_VERIFY_TOKEN = "sim-whatsapp-verify-token"
_ENV_PREFIX = "BOOKLNK_"


class Settings(BaseSettings):
    # A refused value is never echoed back (it may be a secret, or end with one).
    model_config = SettingsConfigDict(env_prefix=_ENV_PREFIX, extra="ignore", hide_input_in_errors=True)

    # Unset: an embedded PostgreSQL (pgserver) is started under `embedded_pg_dir`.
    # This login owns the schema and runs migrations.
    database_url: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "BOOKLNK_DATABASE_URL")
    )
    # Optional separate login for the API and worker: a role that is a member of
    # `db_app_role` and nothing more. Without it they log in as `database_url` and rely on
    # SET LOCAL ROLE, which SQL the app itself runs could undo (RESET ROLE).
    app_database_url: SecretStr | None = None
    embedded_pg_dir: Path = Path(".booklnk/pgdata")
    # Role every request and job switches to (SET LOCAL ROLE): not a superuser, not the
    # owner of the tables, so PostgreSQL row-level security applies to it.
    db_app_role: str = "booklnk_app"
    # Each process's connections (no overflow), and how long a request waits for one
    # before it is answered 503 with Retry-After.
    db_pool_size: int = Field(default=10, ge=1, le=200)
    db_pool_timeout_seconds: float = Field(default=5.0, gt=0, le=60)

    environment: Literal["development", "production", "test"] = "development"
    log_json: bool | None = None  # default: JSON in production, console otherwise
    log_level: str = "INFO"

    jwt_secret: SecretStr = SecretStr(_DEV_JWT_SECRET)
    access_token_minutes: int = 15
    refresh_token_days: int = 30

    # Argon2id cost (argon2-cffi's defaults, RFC 9106's second recommended option).
    password_time_cost: int = 3
    password_memory_kib: int = 65536

    # Login throttling (tenancy.throttle). Per account from one client address: the first
    # `login_failures_before_delay` failures are free, then each further attempt waits 2^k
    # seconds (1, 2, 4, ...) up to `login_max_delay_seconds`; forgotten after
    # `login_forget_after_seconds` without a failure, or at once by the right password from
    # that address. A stranger's failures elsewhere never delay the owner.
    login_failures_before_delay: int = Field(default=5, ge=1, le=1000)
    login_max_delay_seconds: int = Field(default=900, ge=1, le=86400)
    login_forget_after_seconds: int = Field(default=86400, ge=60, le=30 * 86400)
    # Per client address, any accounts (spraying): looser, as an office behind NAT shares
    # it. Past this many failures its attempts are delayed the same way; forgotten after
    # `login_window_seconds` without a failure.
    login_max_failures_per_address: int = Field(default=100, ge=1, le=100_000)
    login_window_seconds: int = Field(default=900, ge=60, le=86400)

    # Extra business-type definition files (*.toml) loaded on start-up besides the built-ins.
    business_types_dir: Path | None = None

    public_base_url: str = "http://127.0.0.1:8000"  # our webhook and return URLs start here

    # Kashier (PROTOCOL.md). The defaults talk to `booklnk kashier-sim` on its default port;
    # real Kashier (test or live) is a matter of these values only.
    kashier_mid: str = _SIM_MID
    kashier_api_key: SecretStr = SecretStr(_SIM_API_KEY)
    kashier_secret_key: SecretStr = SecretStr(_SIM_SECRET_KEY)
    kashier_mode: Literal["test", "live"] = "test"
    kashier_hpp_url: str = "http://127.0.0.1:8790"
    kashier_api_url: str = "http://127.0.0.1:8790"
    kashier_fep_url: str = "http://127.0.0.1:8790"
    kashier_timeout_seconds: float = Field(default=15.0, gt=0, le=120)
    # A day's reconciliation re-checks the attempts of this many days up to it (money moves
    # after a checkout: refunds, late Fawry payments, refunds made in Kashier's dashboard).
    reconcile_lookback_days: int = Field(default=7, ge=1, le=31)
    # The workers reconcile every business's yesterday at 01:30 UTC. Off where something else
    # schedules `booklnk reconcile` (an outside cron), and in the test suite's live stacks,
    # whose tests run the reconciliation themselves and must not meet the wall clock's.
    reconcile_nightly: bool = True
    # A worker writes a heartbeat this often; a job whose worker's heartbeat is older than
    # `worker_stalled_seconds` (the worker died: SIGKILL, OOM, a lost node) is run again,
    # and the lock it held is freed. Every task re-reads state, so a rerun does only what
    # is left.
    worker_heartbeat_seconds: float = Field(default=10.0, gt=0, le=300)
    worker_stalled_seconds: float = Field(default=60.0, gt=0, le=3600)
    # The worker answers GET /health (its heartbeat) and /metrics (Prometheus) here; port 0
    # takes a free one (logged), as tests running several workers do.
    worker_health_host: str = "127.0.0.1"
    worker_health_port: int = Field(default=8791, ge=0, le=65535)
    # Proxies whose X-Forwarded-For is believed (comma list, or "*"): the login throttle
    # counts per client address, so behind a load balancer name it here.
    trusted_proxies: str = "127.0.0.1"
    # Request bodies larger than these answer 413 before anything parses them. The largest
    # legitimate bodies are a few KB (a service naming 200 staff, a week of 200 intervals,
    # a business type with an intake schema); Kashier's webhooks are about 1 KB.
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, le=16 * 1024 * 1024)
    max_webhook_body_bytes: int = Field(default=16 * 1024, ge=1024, le=1024 * 1024)
    # Anonymous reads of a business's public page (/v1/public/…): requests a minute per client
    # address, all those routes together, counted in each server process's memory.
    public_reads_per_minute: int = Field(default=60, ge=1, le=100_000)
    # The same kind of limit (429 `too_many_requests` with Retry-After) on the routes
    # anyone can call in a loop: requests a minute per client address and process.
    registrations_per_minute: int = Field(default=10, ge=1, le=100_000)
    logins_per_minute: int = Field(default=30, ge=1, le=100_000)
    bookings_per_minute: int = Field(default=60, ge=1, le=100_000)
    # Kashier's webhooks come from a few addresses for every business at once, so this one
    # is generous, and past it only deliveries whose signature fails are refused: Kashier's
    # own traffic never is (see api/limits.py).
    webhooks_per_minute: int = Field(default=600, ge=1, le=1_000_000)
    # Origins of browser apps allowed to call the API (CORS), a comma list of
    # scheme://host[:port], or "*". Empty: no CORS header is ever sent.
    cors_allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # The API's GET /metrics answers only `Authorization: Bearer <this>`; unset (or empty),
    # it answers 404. The worker's metrics are on its own port (worker_health_*).
    metrics_token: SecretStr | None = Field(default=None, min_length=16)
    # E-mail (notifications.email): the SMTP server messages are handed to. The defaults
    # talk to `booklnk messages-sim` (serve --messages-sim); a provider's relay is these values only.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=8025, ge=1, le=65535)
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: float = Field(default=30.0, gt=0, le=300)
    mail_from: str = "Booklnk <no-reply@booklnk.localhost>"
    # The channels this deployment has providers for (comma list of email, sms, whatsapp): a
    # message for another goes on by the recipient's next channel.
    message_channels: Annotated[list[MessageChannel], NoDecode] = Field(
        default_factory=lambda: list(get_args(MessageChannel))
    )
    # SMS by Cequens (notifications.sms). The defaults talk to the messaging simulator
    # (`booklnk messages-sim`, its web port); the real gateway is these values only.
    cequens_api_url: str = "http://127.0.0.1:8026/cequens"
    cequens_username: str = "booklnk"
    cequens_api_key: SecretStr = SecretStr(_SIM_CEQUENS_API_KEY)
    # The pre-registered alphanumeric sender ID (Egyptian operators filter unknown ones).
    sms_sender_name: str = Field(default="Booklnk", min_length=1, max_length=11)
    sms_max_segments: int = Field(default=6, ge=1, le=20)
    sms_timeout_seconds: float = Field(default=15.0, gt=0, le=120)
    # WhatsApp Business Cloud API (notifications.whatsapp); the defaults talk to the simulator.
    whatsapp_api_url: str = "http://127.0.0.1:8026/whatsapp"
    whatsapp_api_version: str = Field(default="v21.0", pattern=r"^v[0-9]{2}\.[0-9]$")
    whatsapp_phone_number_id: str = Field(default="100000000000001", pattern=r"^[0-9]{1,20}$")
    whatsapp_access_token: SecretStr = SecretStr(_SIM_WHATSAPP_TOKEN)
    # Signs the status webhooks Meta sends us (X-Hub-Signature-256), and the subscription
    # handshake's token.
    whatsapp_app_secret: SecretStr = SecretStr(_SIM_WHATSAPP_APP_SECRET)
    whatsapp_verify_token: SecretStr = SecretStr(_SIM_WHATSAPP_VERIFY_TOKEN)
    whatsapp_timeout_seconds: float = Field(default=15.0, gt=0, le=120)
    # Outgoing webhooks (booklnk.integrations): may an endpoint's host be a private,
    # loopback or reserved address? Unset: no in production, yes elsewhere (development and
    # tests post to local receivers). Production also requires https.
    webhook_allow_private_targets: bool | None = None
    webhook_max_endpoints: int = Field(default=10, ge=1, le=100)
    # OpenTelemetry tracing (booklnk.tracing): off unless true. Where spans go is said by the
    # standard OTEL_EXPORTER_OTLP_* variables (OTLP over HTTP; default http://localhost:4318).
    otel_enabled: bool = False

    @field_validator("metrics_token", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("cors_allowed_origins", "message_channels", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        return [o.strip() for o in value.split(",") if o.strip()] if isinstance(value, str) else value

    @field_validator("cors_allowed_origins")
    @classmethod
    def _origins(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            parts = urlsplit(origin)
            # A browser sends its origin as exactly this: no path, no trailing slash.
            if origin != "*" and (
                parts.scheme not in ("http", "https") or f"{parts.scheme}://{parts.netloc}" != origin
            ):
                raise ValueError("each origin is scheme://host[:port] (no path, no trailing slash) or *")
        return origins

    @model_validator(mode="after")
    def _stalled_after_missed_heartbeats(self) -> Settings:
        if self.worker_stalled_seconds < 2 * self.worker_heartbeat_seconds:
            raise ValueError(
                "BOOKLNK_WORKER_STALLED_SECONDS must be at least twice BOOKLNK_WORKER_HEARTBEAT_SECONDS:"
                " a live worker must not be taken for a dead one between two heartbeats"
            )
        return self

    @model_validator(mode="after")
    def _production_is_real(self) -> Settings:
        problems = production_problems(self) if self.environment == "production" else []
        if problems:
            # One problem per line: `configuration_problems` prints each on its own.
            raise ValueError("\n".join(problems))
        return self

    @property
    def json_logs(self) -> bool:
        return self.log_json if self.log_json is not None else self.environment == "production"


def production_problems(settings: Settings) -> list[str]:
    """What a production deployment must not run with: development secrets, the
    simulator's Kashier keys or its test mode, and addresses only this machine can reach
    (Kashier would be told to send its webhooks to a loopback `public_base_url`)."""
    problems = []
    secret = settings.jwt_secret.get_secret_value()
    if secret == _DEV_JWT_SECRET or len(secret) < 32:
        problems.append("BOOKLNK_JWT_SECRET must be set to a random value of 32+ characters in production")
    if settings.kashier_api_key.get_secret_value() == _SIM_API_KEY:
        problems.append("BOOKLNK_KASHIER_API_KEY must be set in production (it is the simulator's)")
    if settings.kashier_secret_key.get_secret_value() == _SIM_SECRET_KEY:
        problems.append("BOOKLNK_KASHIER_SECRET_KEY must be set in production (it is the simulator's)")
    if settings.kashier_mid == _SIM_MID:
        problems.append("BOOKLNK_KASHIER_MID must be set in production (it is the simulator's)")
    if settings.kashier_mode != "live":
        problems.append("BOOKLNK_KASHIER_MODE must be live in production (test takes no real money)")
    for name in ("kashier_hpp_url", "kashier_api_url", "kashier_fep_url", "public_base_url"):
        if _loopback(getattr(settings, name)):
            problems.append(
                f"{_ENV_PREFIX}{name.upper()} must be an address reachable from outside in production"
                " (it points at this machine)"
            )
    if settings.smtp_security == "none" and not _loopback(f"smtp://{settings.smtp_host}"):
        problems.append(
            "BOOKLNK_SMTP_SECURITY must be starttls or tls in production when the SMTP server is not"
            " on this machine (codes and passwords' notices would cross the network in clear)"
        )
    simulated = {
        "sms": [("cequens_api_key", _SIM_CEQUENS_API_KEY), ("cequens_username", "")],
        "whatsapp": [
            ("whatsapp_access_token", _SIM_WHATSAPP_TOKEN),
            ("whatsapp_app_secret", _SIM_WHATSAPP_APP_SECRET),
            ("whatsapp_verify_token", _SIM_WHATSAPP_VERIFY_TOKEN),
        ],
    }
    for channel, secrets in simulated.items():
        if channel not in settings.message_channels:
            continue
        for name, sim_value in secrets:
            value = getattr(settings, name)
            if (value.get_secret_value() if isinstance(value, SecretStr) else value) in (sim_value, ""):
                problems.append(
                    f"{_ENV_PREFIX}{name.upper()} must be set in production (unset, or the simulator's), or"
                    f" {channel} left out of {_ENV_PREFIX}MESSAGE_CHANNELS"
                )
        url = settings.cequens_api_url if channel == "sms" else settings.whatsapp_api_url
        if _loopback(url):
            problems.append(f"{channel}: the provider's URL must not point at this machine in production")
    return problems


def _loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified  # 0.0.0.0 is this machine too


def configuration_problems(error: ValidationError) -> list[str]:
    """A refused configuration, one line per problem, naming the variable and the rule,
    never the value."""
    lines = []
    for found in error.errors(include_input=False, include_url=False):
        message = str(found["msg"]).removeprefix("Value error, ")
        names = [str(part) for part in found["loc"]]
        where = ""
        if names:
            where = "DATABASE_URL" if names[0] == "database_url" else _ENV_PREFIX + names[0].upper()
        lines += [f"{where}: {line}" if where else line for line in message.splitlines()]
    return lines
