"""Settings: environment, strictness, defaults, and the generated secret key."""

from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from walkout.service.settings import AccessPolicy, Settings, ensure_secret_key


def test_reads_walkout_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("WALKOUT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("WALKOUT_ENTRY_TOKEN_TTL", "45")
    monkeypatch.setenv("WALKOUT_ACCESS_POLICY", "staff_only")
    monkeypatch.setenv("WALKOUT_SIGN_IN_MAX_FAILURES", "3")
    settings = Settings()
    assert settings.entry_token_ttl == timedelta(seconds=45)
    assert settings.access_policy is AccessPolicy.STAFF_ONLY
    assert settings.sign_in_max_failures == 3
    assert settings.db_url == f"sqlite:///{tmp_path / 'walkout.db'}"


def test_defaults(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.entry_token_ttl == timedelta(seconds=30)
    assert settings.access_policy is AccessPolicy.PUBLIC
    assert (settings.sign_in_max_failures, settings.sign_in_window) == (5, timedelta(minutes=5))
    assert settings.secret_key is None


@pytest.mark.parametrize(
    "values",
    [
        {"no_such_setting": 1},
        {"access_policy": "everyone"},
        {"entry_token_ttl": 0},
        {"secret_key": "too short"},
        {"sign_in_max_failures": 0},
    ],
)
def test_rejects_unknown_and_invalid(values: dict[str, object], tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        Settings.model_validate({"data_dir": tmp_path, **values})


def test_every_field_is_described() -> None:
    assert all(field.description for field in Settings.model_fields.values())


def test_secret_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    first = ensure_secret_key(settings)
    assert len(first) >= 32
    path = tmp_path / "data" / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ensure_secret_key(settings) == first
    assert ensure_secret_key(Settings(data_dir=tmp_path / "other")) != first
    assert sorted(p.name for p in path.parent.iterdir()) == ["secret_key"]


def test_a_given_secret_key_wins(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, secret_key="s" * 40)
    assert ensure_secret_key(settings) == b"s" * 40
    assert not (tmp_path / "secret_key").exists()
