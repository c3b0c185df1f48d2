"""Generated events shaped like the seeds' traffic, for the demo and the benchmark."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

PAGES = ["/", "/pricing", "/docs", "/blog", "/signup", "/checkout", "/settings"]
TOOLS = ["Start/Sit", "FAAB", "Decisions"]
CLICK_TARGETS = ["cta-signup", "nav-docs", "contact-email", "contact-phone", "share"]


def events(
    count: int, *, days: int = 1, projects: int = 1, seed: int = 42, end: datetime | None = None
) -> Iterator[dict[str, Any]]:
    """`count` events spread over the last `days` days (UTC) before `end`, in time order,
    in sessions of a few events each, over `projects` tenants."""
    rng = random.Random(seed)
    end = end or datetime.now(UTC)
    start = end - timedelta(days=days)
    span = (end - start).total_seconds()
    emitted = 0
    session_number = 0
    while emitted < count:
        session_number += 1
        project = f"project_{session_number % projects}" if projects > 1 else "default"
        session_id = f"s{seed}-{session_number}"
        user_id = f"u{rng.randrange(max(count // 20, 1))}" if rng.random() < 0.6 else None
        at = start + timedelta(seconds=span * min(emitted / count, 0.999) + rng.random() * 60)
        variant = rng.choice(["control", "treatment"])
        for step in range(min(rng.randint(1, 8), count - emitted)):
            kind = (
                "pageview"
                if step == 0
                else rng.choice(["pageview", "click", "tool_used", "api_call", "exposure", "conversion"])
            )
            event: dict[str, Any] = {
                "project_id": project,
                "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "occurred_at": min(at, end).isoformat(),
                "session_id": session_id,
                "event_type": kind,
                "properties": {
                    "plan": rng.choice(["free", "pro"]),
                    "risk_mode": rng.choice(["protect", "neutral", "chase"]),
                },
            }
            if user_id:
                event["user_id"] = user_id
            if kind == "pageview":
                event["name"] = rng.choice(PAGES)
            elif kind == "click":
                event["name"] = rng.choice(CLICK_TARGETS)
            elif kind == "tool_used":
                event["name"] = rng.choice(TOOLS)
                event["value"] = round(rng.uniform(5, 500), 1)
            elif kind in ("exposure", "conversion"):
                event["experiment_id"] = "checkout-button"
                event["variant_key"] = variant
            elif kind == "api_call":
                event["name"] = "chat"
                event["value"] = rng.randint(100, 4000)
            yield event
            emitted += 1
            at += timedelta(seconds=rng.randint(1, 120))
