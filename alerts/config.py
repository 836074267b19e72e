"""Settings of the webhook delivery (environment ``HPGEO_ALERTS_*`` or ``.env``), kept with the alerts
so the service's settings stay the catalog's.

``HPGEO_ALERTS_DELIVER=false`` turns the in-process deliverer of ``hpgeo serve`` off: run several API
workers and one ``hpgeo alerts deliver --loop`` (several deliverers are safe too: each outbox row is
claimed by exactly one).
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from alerts.delivery import DeliveryPolicy

__all__ = ["AlertSettings"]


class AlertSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HPGEO_ALERTS_", env_file=".env", extra="ignore")

    deliver: bool = Field(True, description="Run the webhook deliverer inside `hpgeo serve` (each API worker process).")
    deliver_every: float = Field(1.0, gt=0, description="Seconds the deliverer waits when the outbox has nothing due.")
    webhook_timeout: float = Field(10.0, gt=0, description="Connect / read timeout of one webhook POST (s).")
    lease: float = Field(60.0, gt=0, description="How long a claimed outbox row stays with its deliverer (s; ≥ 3 × the timeout).")
    max_attempts: int = Field(8, ge=1, description="Tries before a message is dead-lettered.")
    backoff: float = Field(2.0, ge=0, description="First retry delay (s), doubling per try.")
    max_backoff: float = Field(3600.0, ge=0, description="Longest retry delay (s).")

    def policy(self) -> DeliveryPolicy:
        return DeliveryPolicy(max_attempts=self.max_attempts, backoff=self.backoff, max_backoff=self.max_backoff,
                              timeout=self.webhook_timeout, lease=self.lease)
