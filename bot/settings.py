"""One typed settings object: a TOML file, overridden by CASEROOM_<SECTION>__<KEY> environment variables."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

SUPPORTED_LANGUAGES = ("en", "fr", "de")


class ConfigError(Exception):
    """A setting is wrong or missing; the message names the key and what it expects."""


class DatabaseSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = "sqlite+aiosqlite:///caseroom.db"

    @field_validator("url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("expected a sqlite+aiosqlite:// or postgresql+asyncpg:// URL")
        return value


class BotSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    case_managers: list[str] = Field(default_factory=list)
    language: str = "en"
    timezone: str = "UTC"
    dialog_timeout_minutes: int = Field(default=30, ge=1, le=24 * 60)
    # Reminders that fell due while the bot was down are sent late if younger than this.
    catch_up_days: int = Field(default=7, ge=0, le=365)
    # The organisation the case managers work for. Sharing a case with a professional from any other
    # organisation needs the person's consent ("team"); a professional invited without "from" is taken to
    # belong to the inviting case manager's organisation.
    organisation: str | None = Field(default=None, max_length=200)

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in SUPPORTED_LANGUAGES:
            raise ValueError(f"expected one of {', '.join(SUPPORTED_LANGUAGES)}")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("expected an IANA time zone such as Europe/Paris") from None
        return value


class PrivacySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # Message bodies (inbox and outbox payloads) are purged this many days after they were handled or sent.
    keep_messages_days: int = Field(default=30, ge=1, le=3650)
    # Closed cases are erased automatically this many days after closing; unset: never automatically.
    erase_closed_after_days: int | None = Field(default=None, ge=1, le=36500)


class ConsoleSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool = True
    # Where files the bot sends (exports) are written, one per send; the console prints the path.
    files_dir: Path = Path("caseroom-files")


class MatrixSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    homeserver: str
    user_id: str
    password: str | None = None
    access_token: str | None = None
    device_id: str | None = None
    store_path: Path = Path("matrix-store")
    pickle_key: str | None = None
    encrypt_rooms: bool = True
    staff: list[str] = Field(default_factory=list)
    sync_timeout_seconds: int = Field(default=30, ge=1, le=300)

    @field_validator("homeserver")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected the homeserver's URL, such as https://matrix.example.org")
        return value.rstrip("/")

    @field_validator("user_id")
    @classmethod
    def _matrix_id(cls, value: str) -> str:
        if not re.fullmatch(r"@[a-z0-9._=/+-]+:[A-Za-z0-9.:-]+", value):
            raise ValueError("expected a Matrix user id such as @caseroom:example.org")
        return value

    @model_validator(mode="after")
    def _secrets(self) -> MatrixSettings:
        if self.encrypt_rooms and not self.pickle_key:
            raise ValueError(
                "pickle_key is required when encrypt_rooms is on: it encrypts the bot's keys at rest "
                "(set a long random secret; the library's default is public)"
            )
        return self


class TelegramSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # From BotFather.
    token: str
    # A local Bot API server (https://github.com/tdlib/telegram-bot-api), as python-telegram-bot takes it:
    # the URL the token is appended to.
    base_url: str = "https://api.telegram.org/bot"
    # Telegram user ids (numbers) of people who may talk to the bot without being in a case.
    staff: list[str] = Field(default_factory=list)
    # Webhook instead of polling: the public HTTPS URL Telegram posts to, and the secret it must send.
    webhook_url: str | None = None
    secret_token: str | None = None
    # Where the webhook endpoint listens (behind a reverse proxy that terminates TLS).
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    poll_timeout_seconds: int = Field(default=30, ge=0, le=50)
    # Telegram's documented limits; the bot keeps under them rather than collecting 429s.
    chat_interval_seconds: float = Field(default=1.0, ge=0, le=60)
    group_messages_per_minute: int = Field(default=20, ge=1, le=10_000)
    messages_per_second: int = Field(default=30, ge=1, le=10_000)

    @field_validator("token")
    @classmethod
    def _token(cls, value: str) -> str:
        if not re.fullmatch(r"\d+:[A-Za-z0-9_-]{8,}", value):
            raise ValueError("expected the token BotFather gave, such as 123456789:AAE...")
        return value

    @field_validator("staff", mode="before")
    @classmethod
    def _ids(cls, value: Any) -> Any:
        if isinstance(value, list):
            value = [str(v) for v in value]
            for item in value:
                if not item.isdigit():
                    raise ValueError(f"expected Telegram user ids (numbers), not {item!r}")
        return value

    @field_validator("base_url", "webhook_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("expected an http(s) URL")
        return value

    @model_validator(mode="after")
    def _webhook(self) -> TelegramSettings:
        if self.webhook_url and not self.secret_token:
            raise ValueError("secret_token is required with webhook_url: requests without it are refused")
        if self.secret_token is not None and not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", self.secret_token):
            raise ValueError("secret_token: 16 to 256 characters of A-Z, a-z, 0-9, _ and -")
        return self


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CASEROOM_", env_nested_delimiter="__", extra="forbid")

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    bot: BotSettings = Field(default_factory=BotSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    console: ConsoleSettings = Field(default_factory=ConsoleSettings)
    matrix: MatrixSettings | None = None
    telegram: TelegramSettings | None = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment wins over the file, which is passed in as init values.
        return (env_settings, init_settings)


def load_settings(path: Path | None = None, **overrides: Any) -> Settings:
    """Read the TOML file (if any) and the environment; raise ConfigError naming the faulty key."""
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"configuration file {path} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    for dotted, value in overrides.items():
        section, key = dotted.split(".")
        data.setdefault(section, {})[key] = value
    try:
        return Settings(**data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"])
            lines.append(f"  {key}: {err['msg']} (got {err.get('input')!r})")
        raise ConfigError("invalid configuration:\n" + "\n".join(lines)) from None
