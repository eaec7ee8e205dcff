"""Settings: built once at start-up from the environment and passed down; nothing reads
the environment at import time."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_DEV_JWT_SECRET = "dev-only-insecure-jwt-secret-change-me-0123456789"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BOOKLNK_", extra="ignore")

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
    db_pool_size: int = 10

    environment: Literal["development", "production", "test"] = "development"
    log_json: bool | None = None  # default: JSON in production, console otherwise
    log_level: str = "INFO"

    jwt_secret: SecretStr = SecretStr(_DEV_JWT_SECRET)
    access_token_minutes: int = 15
    refresh_token_days: int = 30

    # Argon2id cost (argon2-cffi's defaults, RFC 9106's second recommended option).
    password_time_cost: int = 3
    password_memory_kib: int = 65536

    # Login throttling: failures allowed per window, per account and per client address.
    login_max_failures_per_account: int = 5
    login_max_failures_per_address: int = 20
    login_window_seconds: int = 900

    # Extra business-type definition files (*.toml) loaded on start-up besides the built-ins.
    business_types_dir: Path | None = None

    public_base_url: str = "http://127.0.0.1:8000"  # our webhook and return URLs start here

    # Kashier (PROTOCOL.md). The defaults talk to `booklnk kashier-sim` on its default port;
    # real Kashier (test or live) is a matter of these values only.
    kashier_mid: str = "MID-0000-000"
    kashier_api_key: SecretStr = SecretStr("sim-payment-api-key")
    kashier_secret_key: SecretStr = SecretStr("sim-secret$key")
    kashier_mode: Literal["test", "live"] = "test"
    kashier_hpp_url: str = "http://127.0.0.1:8790"
    kashier_api_url: str = "http://127.0.0.1:8790"
    kashier_fep_url: str = "http://127.0.0.1:8790"
    kashier_timeout_seconds: float = Field(default=15.0, gt=0, le=120)
    # A day's reconciliation re-checks the attempts of this many days up to it (money moves
    # after a checkout: refunds, late Fawry payments, refunds made in Kashier's dashboard).
    reconcile_lookback_days: int = Field(default=7, ge=1, le=31)
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

    @model_validator(mode="after")
    def _stalled_after_missed_heartbeats(self) -> Settings:
        if self.worker_stalled_seconds < 2 * self.worker_heartbeat_seconds:
            raise ValueError(
                "BOOKLNK_WORKER_STALLED_SECONDS must be at least twice BOOKLNK_WORKER_HEARTBEAT_SECONDS:"
                " a live worker must not be taken for a dead one between two heartbeats"
            )
        return self

    @model_validator(mode="after")
    def _production_needs_real_secrets(self) -> Settings:
        secret = self.jwt_secret.get_secret_value()
        if self.environment == "production" and (secret == _DEV_JWT_SECRET or len(secret) < 32):
            raise ValueError(
                "BOOKLNK_JWT_SECRET must be set to a random value of 32+ characters in production"
            )
        if (
            self.environment == "production"
            and self.kashier_api_key.get_secret_value() == "sim-payment-api-key"
        ):
            raise ValueError(
                "BOOKLNK_KASHIER_API_KEY (and the other Kashier settings) must be set in production"
            )
        return self

    @property
    def json_logs(self) -> bool:
        return self.log_json if self.log_json is not None else self.environment == "production"
