"""The demo data every reset brings back: ids, credentials and the seed tables (see the package docstring)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow_provider_lms.sandbox.lara.periods import period_end, portal_moment, start_for_end, to_portal
from airflow_provider_lms.sandbox.lara.records import Credits, Cycle, Member, Period, StatusEntry, lara_id

if TYPE_CHECKING:
    from airflow_provider_lms.sandbox.lara.state import LaraState

__all__ = ["CUSTOM_FIELD", "DEMO_PERIOD_SECONDS", "LARA_CREDENTIALS", "LaraSeed", "seed_state"]

# ASSUMPTION: the real header names are given at onboarding; these two stand in for them.
LARA_CREDENTIALS: dict[str, str] = {
    "X-Lara-Api-Key": "sandbox-lara-key",
    "X-Lara-Api-Secret": "sandbox-lara-secret",
}
#: The demo period ends this many seconds after a reset.
DEMO_PERIOD_SECONDS = 10.0
CUSTOM_FIELD = "numero_permis"


class LaraSeed:
    """Ids of the seeded demo data (see the package docstring)."""

    CYCLE_ID = lara_id("cycle-formation-continue")
    OLD_CYCLE_ID = lara_id("cycle-ancien")
    RULE_ID = lara_id("rule-membres")
    PREVIOUS_PERIOD_ID = lara_id("period-previous")
    DEMO_PERIOD_ID = lara_id("period-demo")
    NEXT_PERIOD_ID = lara_id("period-next")
    OLD_PERIOD_IDS = tuple(lara_id(f"period-old-{n}") for n in range(4))
    MEMBER_IDS = tuple(lara_id(f"member-{n}") for n in range(1, 7))
    LICENSE_NUMBERS = ("10001", "10002", "10003", "10004", "10005", "10006")
    MEMBER_NAMES = (
        "Amélie Tremblay",
        "Benoît Gagnon",
        "Chloé Roy",
        "Denis Côté",
        "Élise Bouchard",
        "François Gauthier",
    )
    CUSTOM_FIELD = CUSTOM_FIELD
    REQUIRED_CREDITS = 20.0
    COMPLIANT_IDS = MEMBER_IDS[:3]
    NON_COMPLIANT_IDS = MEMBER_IDS[3:]


CYCLES: tuple[Cycle, ...] = (
    Cycle(
        LaraSeed.CYCLE_ID,
        "FC - règlement général des membres",
        [
            ("Règlement de formation continue", 1),
            ("Continuing education policy", 2),
            ("Règlement de formation continue obligatoire", 3),
            ("Reglamento de formación continua", 4),
        ],
        LaraSeed.RULE_ID,
    ),
    Cycle(LaraSeed.OLD_CYCLE_ID, "Ancien règlement 2015", [("Ancien règlement", 1)], LaraSeed.RULE_ID, False),
)

_CREDITS_REQ: dict[str, Any] = {"id": lara_id("req-credits"), "type": 1, "targetValue": LaraSeed.REQUIRED_CREDITS}
_DEMO_REQUIREMENTS: tuple[dict[str, Any], ...] = (
    _CREDITS_REQ,
    {"id": lara_id("req-categories"), "type": 3, "targetValue": 2.0},
    {
        "id": lara_id("req-ethics"),
        "type": 2,
        "targetValue": 3.0,
        "parentId": _CREDITS_REQ["id"],
        "providerId": lara_id("provider-ordre"),
    },
)

#: The old cycle's periods, fixed in time: (id, adminName, start, duration, unit, deleted).
OLD_PERIODS: tuple[tuple[str, str, datetime, float, int, bool], ...] = (
    (LaraSeed.OLD_PERIOD_IDS[0], "36 mois", datetime(2015, 4, 1), 36, 3, False),
    (LaraSeed.OLD_PERIOD_IDS[1], "6 semaines", datetime(2015, 9, 7, 8, 30), 6, 2, True),
    (LaraSeed.OLD_PERIOD_IDS[2], "90 jours", datetime(2016, 1, 31), 90, 1, False),
    (LaraSeed.OLD_PERIOD_IDS[3], "48 heures", datetime(2016, 3, 12, 12, 0, 0, 730000), 48, 0, False),
)

#: Extra (closed) status ranges before the open "Membre" range every member has: (status, start, end).
EARLIER_STATUSES: dict[str, tuple[tuple[str, datetime, datetime], ...]] = {
    "10006": (("1ère inscription", datetime(2019, 6, 1), datetime(2019, 12, 31, 23, 59, 59)),),
}
MEMBER_SINCE = datetime(2020, 1, 1)

#: Credits in the demo period by license number: (completed, exempted, provider).
DEMO_CREDITS: dict[str, tuple[float, float, float]] = {
    "10001": (22, 0, 5),
    "10002": (15, 5, 0),
    "10003": (30, 0, 12),
    "10004": (12, 0, 0),
    "10005": (19.5, 0, 0),
    "10006": (0, 0, 0),
}
#: Everyone's credits in the previous period.
PREVIOUS_CREDITS = (21.0, 0.0, 10.0)


def _current_cycle_periods(now: datetime) -> list[Period]:
    """The previous, demo and next yearly periods, the demo one ending ``DEMO_PERIOD_SECONDS`` after ``now``."""
    demo_start = start_for_end(now + timedelta(seconds=DEMO_PERIOD_SECONDS), 1, 4)
    previous_start = start_for_end(portal_moment(demo_start), 1, 4)
    next_start = to_portal(period_end(demo_start, 1, 4))
    return [
        Period(
            LaraSeed.PREVIOUS_PERIOD_ID,
            LaraSeed.CYCLE_ID,
            "Période précédente",
            previous_start,
            1,
            4,
            LaraSeed.RULE_ID,
            [dict(_CREDITS_REQ, id=lara_id("req-prev"))],
        ),
        Period(
            LaraSeed.DEMO_PERIOD_ID,
            LaraSeed.CYCLE_ID,
            "Période annuelle en cours",
            demo_start,
            1,
            4,
            LaraSeed.RULE_ID,
            [dict(r) for r in _DEMO_REQUIREMENTS],
        ),
        Period(
            LaraSeed.NEXT_PERIOD_ID,
            LaraSeed.CYCLE_ID,
            "Période suivante",
            next_start,
            1,
            4,
            LaraSeed.RULE_ID,
            [dict(_CREDITS_REQ, id=lara_id("req-next"))],
        ),
    ]


def seed_state(state: LaraState) -> None:
    """Fill an empty ``state`` with the demo data, the current periods placed relative to its clock."""
    state.cycles = {cycle.id: cycle for cycle in CYCLES}
    periods = _current_cycle_periods(state.clock())
    for period_id, name, start, duration, unit, deleted in OLD_PERIODS:
        periods.append(
            Period(
                period_id,
                LaraSeed.OLD_CYCLE_ID,
                name,
                start,
                duration,
                unit,
                LaraSeed.RULE_ID,
                is_active=not deleted,
                is_deleted=deleted,
            )
        )
    state.periods = {period.id: period for period in periods}
    state.members = {}
    # (period id, user id) -> credits; members without a row have none.
    state.progress = {}
    for user_id, number, name in zip(LaraSeed.MEMBER_IDS, LaraSeed.LICENSE_NUMBERS, LaraSeed.MEMBER_NAMES, strict=True):
        member = Member(user_id, name, {CUSTOM_FIELD: number})
        # Entry ids are numbered in seed order, so they are the same after every reset.
        for status, start, end in EARLIER_STATUSES.get(number, ()):
            member.statuses.append(StatusEntry(state.new_entry_id(), status, None, start, end))
        member.statuses.append(StatusEntry(state.new_entry_id(), "Membre", True, MEMBER_SINCE, None))
        state.members[user_id] = member
        state.progress[(LaraSeed.DEMO_PERIOD_ID, user_id)] = Credits(*map(float, DEMO_CREDITS[number]))
        state.progress[(LaraSeed.PREVIOUS_PERIOD_ID, user_id)] = Credits(*PREVIOUS_CREDITS)
