"""A refused configuration: one line per problem naming the variable and the rule, exit 2,
never a value, never a traceback. Production refuses what only works on this machine or
takes no real money. Before, a refusal printed a 56-line traceback ending with the last
characters of a secret, and test mode and loopback addresses were accepted in production."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from pydantic import ValidationError

from booklnk.config import Settings, configuration_problems

SECRET = "kashier-secret-that-must-never-be-printed-0123456789"
REAL = {
    "jwt_secret": "j" * 40,
    "kashier_mid": "MID-1234-567",
    "kashier_api_key": "a-real-payment-api-key",
    "kashier_secret_key": "a-real-secret-key",
    "kashier_mode": "live",
    "kashier_hpp_url": "https://payments.kashier.io",
    "kashier_api_url": "https://api.kashier.io",
    "kashier_fep_url": "https://fep.kashier.io",
    "public_base_url": "https://book.example.com",
    "cequens_api_url": "https://apis.cequens.com",
    "cequens_username": "cairo-cuts",
    "cequens_api_key": "a-real-cequens-key",
    "whatsapp_api_url": "https://graph.facebook.com",
    "whatsapp_access_token": "a-real-whatsapp-token",
    "whatsapp_app_secret": "a-real-app-secret",
    "whatsapp_verify_token": "a-real-verify-token",
}


def _problems(**values: str) -> list[str]:
    with pytest.raises(ValidationError) as refused:
        Settings.model_validate({"environment": "production", **REAL, **values})
    return configuration_problems(refused.value)


def test_production_with_real_values_is_accepted() -> None:
    Settings.model_validate({"environment": "production", **REAL})


@pytest.mark.parametrize(
    ("name", "value", "rule"),
    [
        ("kashier_mode", "test", "BOOKLNK_KASHIER_MODE must be live in production"),
        ("public_base_url", "http://127.0.0.1:8000", "BOOKLNK_PUBLIC_BASE_URL must be an address reachable"),
        ("public_base_url", "http://localhost:8000", "BOOKLNK_PUBLIC_BASE_URL must be an address reachable"),
        ("kashier_api_url", "http://[::1]:8790", "BOOKLNK_KASHIER_API_URL must be an address reachable"),
        ("kashier_hpp_url", "http://127.0.0.2:8790", "BOOKLNK_KASHIER_HPP_URL must be an address reachable"),
        ("kashier_secret_key", "sim-secret$key", "BOOKLNK_KASHIER_SECRET_KEY must be set in production"),
        ("kashier_mid", "MID-0000-000", "BOOKLNK_KASHIER_MID must be set in production"),
        ("jwt_secret", "short", "BOOKLNK_JWT_SECRET must be set"),
        ("cequens_api_key", "sim-cequens-api-key", "BOOKLNK_CEQUENS_API_KEY must be set in production"),
        ("cequens_username", "", "BOOKLNK_CEQUENS_USERNAME must be set in production"),
        ("whatsapp_app_secret", "", "BOOKLNK_WHATSAPP_APP_SECRET must be set in production"),
        ("whatsapp_api_url", "http://127.0.0.1:8026/whatsapp", "whatsapp: the provider's URL must not point"),
    ],
)
def test_production_refuses_what_is_not_real(name: str, value: str, rule: str) -> None:
    problems = _problems(**{name: value})
    assert len(problems) == 1, problems
    assert problems[0].startswith(rule)


def test_production_without_text_messages_needs_no_provider_keys() -> None:
    without = {k: v for k, v in REAL.items() if not k.startswith(("cequens", "whatsapp"))}
    found = Settings.model_validate(
        {"environment": "production", **without, "message_channels": "email", "cequens_api_url": "x"}
    )
    assert found.message_channels == ["email"]


def test_development_takes_the_simulator_and_loopback() -> None:
    Settings.model_validate({"environment": "development", "public_base_url": "http://127.0.0.1:9000"})


def test_every_problem_is_one_line_and_no_value_is_echoed() -> None:
    problems = _problems(
        kashier_mode=SECRET, kashier_timeout_seconds="9999", public_base_url="http://127.0.0.1"
    )
    assert problems[0].startswith("BOOKLNK_KASHIER_MODE: Input should be 'test' or 'live'")
    assert any(
        p.startswith("BOOKLNK_KASHIER_TIMEOUT_SECONDS: Input should be less than or equal to 120")
        for p in problems
    )
    assert all("\n" not in p and SECRET[-20:] not in p and "9999" not in p for p in problems)


def test_the_command_line_prints_one_line_per_problem_and_exits_2() -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("BOOKLNK_") and key != "DATABASE_URL"
    }
    env |= {
        "BOOKLNK_ENVIRONMENT": "production",
        "BOOKLNK_KASHIER_API_KEY": SECRET,
        "BOOKLNK_KASHIER_MODE": "test",
    }
    done = subprocess.run(
        [sys.executable, "-m", "booklnk.cli", "migrate"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("configuration error: ")]
    # The JWT secret, 3 Kashier keys, its mode, 4 addresses; with every message channel on
    # by default, Cequens' key and address and WhatsApp's 3 keys and address.
    assert len(lines) == 8 + 2 + 4, done.stderr
    assert "Traceback" not in done.stderr
    assert SECRET[-20:] not in done.stderr + done.stdout
