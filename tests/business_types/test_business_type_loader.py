"""Definition files: the shipped built-ins, a deployment folder, and broken files."""

from __future__ import annotations

from pathlib import Path

import pytest

from booklnk.business_types.loader import (
    BusinessTypeFileError,
    builtin_definitions,
    load_definitions,
    load_folder,
    parse_definition,
)

CLINIC = """\
key = "clinic"
name = "Clinic"
mode = "appointment"
slot_grid_minutes = 10
default_durations_minutes = [10, 20]
min_notice_minutes = 120
horizon_days = 60
cancellation_window_minutes = 720

[payment]
policy = "deposit"
deposit_percent = 25
methods = ["card"]

[payment.hold_minutes]
card = 15

[overridable]
deposit_percent = { min = 10, max = 50 }

[booking_fields]
type = "object"
required = ["patient_name"]

[booking_fields.properties.patient_name]
type = "string"
maxLength = 120
"""


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_builtins_load_and_validate() -> None:
    definitions = {d.key: d for d in builtin_definitions()}

    assert list(definitions) == ["barbershop", "consultant", "gym"]
    barbershop, consultant, gym = (definitions[k] for k in ("barbershop", "consultant", "gym"))
    assert (barbershop.mode, barbershop.slot_grid_minutes) == ("appointment", 15)
    assert barbershop.default_durations_minutes == (30, 45, 60)
    assert barbershop.min_notice_minutes == 0
    assert barbershop.payment.policy == "pay_at_venue"
    assert barbershop.payment.methods == ("card", "wallet")
    assert (gym.mode, gym.slot_grid_minutes, gym.payment.policy) == ("class", 30, "prepay")
    assert gym.payment.hold_minutes["fawry"] == 1440
    assert gym.class_settings is not None
    assert consultant.default_durations_minutes == (30, 60)
    assert (consultant.buffer_after_minutes, consultant.min_notice_minutes) == (15, 720)
    assert (consultant.payment.policy, consultant.payment.deposit_percent) == ("deposit", 50)
    assert consultant.payment.methods == ("card", "fawry")
    assert consultant.booking_fields["required"] == ["topic"]


def test_a_fourth_type_loads_from_a_folder(tmp_path: Path) -> None:
    _write(tmp_path, "clinic.toml", CLINIC)
    _write(tmp_path, "README.md", "not a definition")

    [clinic] = load_folder(tmp_path)

    assert (clinic.key, clinic.slot_grid_minutes, clinic.payment.deposit_percent) == (
        "clinic",
        10,
        25,
    )
    keys = [d.key for d in load_definitions([tmp_path])]
    assert keys == ["barbershop", "consultant", "gym", "clinic"]


def test_broken_file_names_the_file_and_each_problem(tmp_path: Path) -> None:
    text = CLINIC.replace("deposit_percent = 25\n", "").replace(
        "slot_grid_minutes = 10", "slot_grid_minutes = 7"
    )
    path = _write(tmp_path, "clinic.toml", text)

    with pytest.raises(BusinessTypeFileError) as caught:
        load_folder(tmp_path)

    error = caught.value
    assert error.source == str(path)
    assert {(i.field, i.rule) for i in error.issues} == {
        ("slot_grid_minutes", "grid_not_dividing_day"),
        ("payment.deposit_percent", "required"),
    }
    assert str(path) in str(error)
    assert "payment.deposit_percent [required]" in str(error)


def test_toml_syntax_error(tmp_path: Path) -> None:
    _write(tmp_path, "broken.toml", 'key = "clinic\n')

    with pytest.raises(BusinessTypeFileError, match=r"broken\.toml") as caught:
        load_folder(tmp_path)

    assert [i.rule for i in caught.value.issues] == ["toml_syntax"]


def test_duplicate_keys_across_files(tmp_path: Path) -> None:
    _write(tmp_path, "a.toml", CLINIC)
    second = _write(tmp_path, "b.toml", CLINIC)

    with pytest.raises(BusinessTypeFileError) as caught:
        load_folder(tmp_path)

    assert caught.value.source == str(second)
    [issue] = caught.value.issues
    assert (issue.field, issue.rule) == ("key", "duplicate_key")
    assert "a.toml" in issue.message


def test_a_folder_may_not_redefine_a_builtin(tmp_path: Path) -> None:
    _write(tmp_path, "barber.toml", CLINIC.replace('key = "clinic"', 'key = "barbershop"'))

    with pytest.raises(BusinessTypeFileError, match=r"builtin/barbershop\.toml"):
        load_definitions([tmp_path])


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(BusinessTypeFileError) as caught:
        load_folder(tmp_path / "nowhere")

    assert [i.rule for i in caught.value.issues] == ["not_a_directory"]


def test_parse_definition_names_its_source() -> None:
    with pytest.raises(BusinessTypeFileError, match="admin upload") as caught:
        parse_definition({"key": "x"}, source="admin upload")

    assert ("key", "string_pattern_mismatch") in {(i.field, i.rule) for i in caught.value.issues}
    assert ("name", "missing") in {(i.field, i.rule) for i in caught.value.issues}
