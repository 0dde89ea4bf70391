"""What a client sees from the Eduframe double: auth, pagination, limits, orders, grades, certificates."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import httpx
import pytest

from airflow_provider_lms.sandbox import SandboxServer
from airflow_provider_lms.sandbox.eduframe import EDUFRAME_SANDBOX_API_KEY, EduframeSeed

ADMIN = EduframeSeed.ADMIN_USER_ID
ANNA, BRAM, CHLOE = EduframeSeed.LEARNER_IDS[:3]


def _order(client: httpx.Client, variant_id: int, *student_ids: int, approve: bool = True) -> dict:
    response = client.post(
        "/orders",
        json={
            "catalog_variant_id": variant_id,
            "creator_id": ADMIN,
            "student_ids": list(student_ids),
            "approve": approve,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def _state(control: httpx.Client) -> dict:
    response = control.get("/eduframe/state")
    response.raise_for_status()
    return response.json()


# -- auth --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-the-key"}, {"Authorization": f"Basic {EDUFRAME_SANDBOX_API_KEY}"}],
    ids=["missing", "wrong-key", "wrong-scheme"],
)
def test_requests_without_a_valid_bearer_key_get_401_with_eduframe_error_body(
    sandbox: SandboxServer, headers: dict[str, str]
) -> None:
    response = httpx.get(f"{sandbox.platform_url('eduframe')}/users", headers=headers)
    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"errors", "code", "message"}
    assert body["errors"] == {} and body["code"] == 401 and body["message"]


def test_accepted_keys_are_configurable_on_the_state(sandbox: SandboxServer) -> None:
    sandbox.state.eduframe.api_keys.add("second-key")
    response = httpx.get(
        f"{sandbox.platform_url('eduframe')}/educators/current", headers={"Authorization": "Bearer second-key"}
    )
    assert response.status_code == 200
    sandbox.reset()  # keys go back to the defaults
    response = httpx.get(
        f"{sandbox.platform_url('eduframe')}/educators/current", headers={"Authorization": "Bearer second-key"}
    )
    assert response.status_code == 401


# -- pagination --------------------------------------------------------------------------------------


def test_following_link_next_visits_every_user_exactly_once(eduframe: httpx.Client) -> None:
    for n in range(250):
        created = eduframe.post(
            "/users", json={"email": f"bulk{n:03d}@sandbox.example", "first_name": "Bulk", "last_name": f"User {n}"}
        )
        assert created.status_code == 201

    seen: list[int] = []
    requests_made = 0
    url: str | None = "/users?per_page=100"
    while url:
        page = eduframe.get(url)
        requests_made += 1
        assert page.status_code == 200
        seen.extend(user["id"] for user in page.json())
        url = page.links.get("next", {}).get("url")
        if url:
            assert url.startswith(eduframe.base_url.scheme + "://"), "next link must be absolute"
            assert "per_page=100" in url

    assert requests_made == 3
    assert len(seen) == 256 == len(set(seen))  # 6 seeded + 250 new, none twice
    assert seen == sorted(seen)


def test_pages_have_prev_links_and_default_to_25(eduframe: httpx.Client) -> None:
    for n in range(30):
        eduframe.post("/users", json={"email": f"p{n}@sandbox.example", "first_name": "P", "last_name": str(n)})
    first = eduframe.get("/users")
    assert len(first.json()) == 25 and "prev" not in first.links
    second = eduframe.get(first.links["next"]["url"])
    assert [u["id"] for u in second.json()] == list(range(26, 37))
    assert "next" not in second.links
    back = eduframe.get(second.links["prev"]["url"])
    assert back.json() == first.json()


def test_cursor_is_stable_when_records_are_appended(eduframe: httpx.Client) -> None:
    first = eduframe.get("/users", params={"per_page": 4})
    new_user = eduframe.post("/users", json={"email": "late@sandbox.example", "first_name": "L", "last_name": "Ate"})
    rest = eduframe.get(first.links["next"]["url"])
    ids = [u["id"] for u in first.json()] + [u["id"] for u in rest.json()]
    assert ids == [1, 2, 3, 4, 5, 6, new_user.json()["id"]]


def test_per_page_above_100_is_clamped_and_deprecated_page_still_works(eduframe: httpx.Client) -> None:
    for n in range(110):
        eduframe.post("/users", json={"email": f"c{n}@sandbox.example", "first_name": "C", "last_name": str(n)})
    assert len(eduframe.get("/users", params={"per_page": 500}).json()) == 100
    page_two = eduframe.get("/users", params={"per_page": 10, "page": 2}).json()
    assert [u["id"] for u in page_two] == list(range(11, 21))


def test_bad_cursor_is_a_400(eduframe: httpx.Client) -> None:
    response = eduframe.get("/users", params={"cursor": "not-a-cursor"})
    assert response.status_code == 400
    assert response.json()["code"] == 400


# -- rate limit --------------------------------------------------------------------------------------


def test_rate_limit_answers_429_with_retry_after_then_recovers(
    sandbox: SandboxServer, eduframe: httpx.Client, control: httpx.Client
) -> None:
    control.put("/eduframe/rate_limit", json={"max_requests": 5, "per_seconds": 2}).raise_for_status()
    for _ in range(5):
        assert eduframe.get("/educators/current").status_code == 200
    limited = eduframe.get("/educators/current")
    assert limited.status_code == 429
    retry_after = int(limited.headers["Retry-After"])
    assert 1 <= retry_after <= 2
    assert limited.json()["code"] == 429 and limited.json()["errors"] == {}

    # The window is per token: another key is not limited.
    sandbox.state.eduframe.api_keys.add("second-key")
    other = httpx.get(
        f"{sandbox.platform_url('eduframe')}/educators/current", headers={"Authorization": "Bearer second-key"}
    )
    assert other.status_code == 200

    time.sleep(retry_after)
    assert eduframe.get("/educators/current").status_code == 200


# -- users -------------------------------------------------------------------------------------------


def test_user_email_is_unique_case_insensitively_and_filterable(eduframe: httpx.Client) -> None:
    duplicate = eduframe.post(
        "/users", json={"email": EduframeSeed.LEARNER_EMAILS[0].upper(), "first_name": "A", "last_name": "B"}
    )
    assert duplicate.status_code == 422
    assert duplicate.json()["errors"] == {"email": ["has already been taken"]}

    found = eduframe.get("/users", params={"email": EduframeSeed.LEARNER_EMAILS[0].upper()}).json()
    assert [u["id"] for u in found] == [ANNA]
    assert eduframe.get("/users", params={"email": "nobody@sandbox.example"}).json() == []


def test_learners_added_in_bulk_to_the_state_are_users_the_api_finds_and_can_enroll(
    sandbox: SandboxServer, eduframe: httpx.Client
) -> None:
    # add_students is the setup path for large runs (the outage, shared-poll and scale-out tests): what it
    # stores must look to a client like users made through the API.
    ids = sandbox.state.eduframe.add_students(3, first_name="Bulk")
    assert len(set(ids)) == 3 and min(ids) > max(EduframeSeed.LEARNER_IDS)
    for user_id in ids:
        found = eduframe.get("/users", params={"email": f"learner{user_id}@sandbox.example"}).json()
        assert [(u["id"], u["first_name"]) for u in found] == [(user_id, "Bulk")]
    order = _order(eduframe, EduframeSeed.FIRST_AID_FLEXIBLE_VARIANT_ID, *ids)
    assert order["id"]
    enrolled = eduframe.get("/enrollments", params={"student_id": ids[0]}).json()
    assert [e["student_id"] for e in enrolled] == [ids[0]]


def test_missing_required_user_fields_are_422_by_field(eduframe: httpx.Client) -> None:
    response = eduframe.post("/users", json={"email": "only@sandbox.example"})
    assert response.status_code == 422
    assert response.json()["errors"] == {"first_name": ["can't be blank"], "last_name": ["can't be blank"]}


# -- orders and enrollments --------------------------------------------------------------------------


def test_orders_create_enrollments_and_duplicates_are_not_prevented(
    eduframe: httpx.Client, control: httpx.Client
) -> None:
    variant = EduframeSeed.WORKPLACE_SAFETY_VARIANT_ID
    first = _order(eduframe, variant, ANNA, BRAM)
    assert first["number_of_students"] == 2 and first["status"] == "active"
    assert [item["student_id"] for item in first["order_items"]] == [ANNA, BRAM]

    # The server does not look for an existing enrollment: ordering again enrolls again.
    _order(eduframe, variant, ANNA)
    mine = eduframe.get(
        "/enrollments",
        params={"student_id": ANNA, "planned_course_id": EduframeSeed.WORKPLACE_SAFETY_PLANNED_COURSE_ID},
    ).json()
    assert len(mine) == 2
    assert {e["status"] for e in mine} == {"confirmed"}
    assert {e["graduation_state"] for e in mine} == {"awaiting_judgement"}

    state = _state(control)
    assert sum(ANNA in o["student_ids"] for o in state["orders"]) == 2
    assert sorted(e["student_id"] for e in state["enrollments"]) == [ANNA, ANNA, BRAM]
    planned = eduframe.get(f"/planned_courses/{EduframeSeed.WORKPLACE_SAFETY_PLANNED_COURSE_ID}").json()
    assert planned["current_participants"] == 3


def test_unapproved_orders_are_requested_but_still_enroll(eduframe: httpx.Client) -> None:
    order = _order(eduframe, EduframeSeed.FIRST_AID_VARIANT_ID, CHLOE, approve=False)
    assert order["status"] == "requested"
    assert eduframe.get("/enrollments", params={"student_id": CHLOE}).json()[0]["status"] == "confirmed"


def test_program_order_creates_program_and_course_enrollments(eduframe: httpx.Client, control: httpx.Client) -> None:
    order = _order(eduframe, EduframeSeed.PROGRAM_VARIANT_ID, BRAM)
    state = _state(control)
    assert state["program_enrollments"] == [
        {
            "id": 1,
            "student_id": BRAM,
            "edition_id": EduframeSeed.PROGRAM_EDITION_ID,
            "state": "confirmed",
            "graduation_state": "awaiting_judgement",
            "graduation_date": None,
            "certificate_awarded": False,
            "certificate_template_id": None,
            "grade": None,
        }
    ]
    assert [(e["student_id"], e["planned_course_id"], e["order_id"]) for e in state["enrollments"]] == [
        (BRAM, EduframeSeed.WORKPLACE_SAFETY_PLANNED_COURSE_ID, order["id"])
    ]


def test_program_order_reuses_an_existing_course_enrollment(eduframe: httpx.Client, control: httpx.Client) -> None:
    course_order = _order(eduframe, EduframeSeed.WORKPLACE_SAFETY_VARIANT_ID, ANNA)
    _order(eduframe, EduframeSeed.PROGRAM_VARIANT_ID, ANNA)
    state = _state(control)
    assert [(e["student_id"], e["order_id"]) for e in state["enrollments"]] == [(ANNA, course_order["id"])]
    assert [p["student_id"] for p in state["program_enrollments"]] == [ANNA]
    # A second program order is not refused either: one more program enrollment.
    _order(eduframe, EduframeSeed.PROGRAM_VARIANT_ID, ANNA)
    assert len(_state(control)["program_enrollments"]) == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"catalog_variant_id": 999, "creator_id": ADMIN, "student_ids": [ANNA]}, "catalog_variant_id"),
        ({"catalog_variant_id": 1, "creator_id": 999, "student_ids": [ANNA]}, "creator_id"),
        ({"catalog_variant_id": 1, "creator_id": ADMIN, "student_ids": [ANNA, 999]}, "student_ids"),
        ({"catalog_variant_id": 1, "creator_id": ADMIN}, "student_ids"),
    ],
)
def test_order_with_unknown_references_is_422_naming_the_field(
    eduframe: httpx.Client, control: httpx.Client, body: dict, field: str
) -> None:
    response = eduframe.post("/orders", json=body)
    assert response.status_code == 422
    assert field in response.json()["errors"]
    assert _state(control)["orders"] == []


def test_enrollment_filters_status_array_and_with_canceled(eduframe: httpx.Client, control: httpx.Client) -> None:
    _order(eduframe, EduframeSeed.FIRST_AID_VARIANT_ID, ANNA, BRAM, CHLOE)
    ids = [e["id"] for e in eduframe.get("/enrollments").json()]
    control.post(f"/eduframe/enrollments/{ids[0]}/start").raise_for_status()
    control.post(f"/eduframe/enrollments/{ids[1]}/complete", json={"graduation_state": "failed"}).raise_for_status()
    assert eduframe.put(f"/enrollments/{ids[2]}/cancel").json()["status"] == "canceled"

    both = eduframe.get("/enrollments?status=active&status=completed").json()
    assert [(e["id"], e["status"]) for e in both] == [(ids[0], "active"), (ids[1], "completed")]
    assert eduframe.get(f"/enrollments/{ids[1]}").json()["graduation_state"] == "failed"
    assert len(eduframe.get("/enrollments", params={"with_canceled": "false"}).json()) == 2
    assert len(eduframe.get("/enrollments", params={"with_canceled": "true"}).json()) == 3
    assert eduframe.get("/enrollments", params={"status": "bogus"}).status_code == 400


def test_control_on_unknown_enrollment_is_404(control: httpx.Client) -> None:
    assert control.post("/eduframe/enrollments/999/complete", json={"graduation_state": "passed"}).status_code == 404


# -- grades ------------------------------------------------------------------------------------------


def test_grade_score_comes_back_as_a_string_and_is_embedded_in_the_enrollment(
    eduframe: httpx.Client, control: httpx.Client
) -> None:
    _order(eduframe, EduframeSeed.WORKPLACE_SAFETY_VARIANT_ID, ANNA)
    enrollment_id = eduframe.get("/enrollments", params={"student_id": ANNA}).json()[0]["id"]

    created = eduframe.post(
        "/grades",
        json={
            "grade": None,
            "score": 8.5,
            "gradeable_id": enrollment_id,
            "gradeable_type": "Enrollment",
            "comment": "ok",
        },
    )
    assert created.status_code == 201
    grade = created.json()
    assert grade["score"] == "8.5" and grade["result"] == "8.5" and grade["grader_id"] == ADMIN
    assert eduframe.get(f"/enrollments/{enrollment_id}").json()["grade"]["id"] == grade["id"]

    again = eduframe.post(
        "/grades", json={"grade": None, "score": 7, "gradeable_id": enrollment_id, "gradeable_type": "Enrollment"}
    )
    assert again.status_code == 422  # look before you grade: PATCH the existing one
    assert eduframe.patch(f"/grades/{grade['id']}", json={"score": 9}).json()["score"] == "9.0"
    assert _state(control)["enrollments"][0]["grade"] == {"score": "9.0", "grade": None}

    assert eduframe.delete(f"/grades/{grade['id']}").status_code == 204
    assert eduframe.get(f"/enrollments/{enrollment_id}").json()["grade"] is None


def test_grade_needs_grade_or_score_and_an_existing_gradeable(eduframe: httpx.Client) -> None:
    both_null = eduframe.post(
        "/grades", json={"grade": None, "score": None, "gradeable_id": 1, "gradeable_type": "Enrollment"}
    )
    assert both_null.status_code == 422
    missing = eduframe.post(
        "/grades", json={"grade": "A", "score": None, "gradeable_id": 42, "gradeable_type": "Enrollment"}
    )
    assert missing.status_code == 422 and "gradeable_id" in missing.json()["errors"]


# -- program certificates ----------------------------------------------------------------------------


def test_award_certificate_passes_the_program_enrollment_and_is_repeatable(
    eduframe: httpx.Client, control: httpx.Client
) -> None:
    _order(eduframe, EduframeSeed.PROGRAM_VARIANT_ID, CHLOE)
    pe_id = eduframe.get("/program/enrollments", params={"student_id": CHLOE}).json()[0]["id"]
    body = {"certificate_template_id": EduframeSeed.CERTIFICATE_TEMPLATE_ID}

    awarded = eduframe.put(f"/program/enrollments/{pe_id}/award_certificate", json=body)
    assert awarded.status_code == 200
    today = datetime.now(timezone.utc).date().isoformat()
    assert awarded.json()["graduation_state"] == "passed" and awarded.json()["graduation_date"] == today

    again = eduframe.put(f"/program/enrollments/{pe_id}/award_certificate", json=body)
    assert again.status_code == 200 and again.json() == awarded.json()
    summary = _state(control)["program_enrollments"][0]
    assert summary["certificate_awarded"] is True
    assert summary["certificate_template_id"] == EduframeSeed.CERTIFICATE_TEMPLATE_ID

    revoked = eduframe.post(f"/program/enrollments/{pe_id}/delete_certificate").json()
    assert revoked["graduation_state"] == "awaiting_judgement" and revoked["graduation_date"] is None
    assert _state(control)["program_enrollments"][0]["certificate_awarded"] is False

    assert eduframe.put(f"/program/enrollments/{pe_id}/award_certificate", json={}).status_code == 422


# -- time moving forward -----------------------------------------------------------------------------


def test_auto_progress_completes_enrollments_once_old_enough(eduframe: httpx.Client, control: httpx.Client) -> None:
    control.put("/eduframe/auto_progress", json={"complete_after_seconds": 0.3, "graduation_state": "passed"})
    _order(eduframe, EduframeSeed.WORKPLACE_SAFETY_VARIANT_ID, ANNA)
    enrollment = eduframe.get("/enrollments", params={"student_id": ANNA}).json()[0]
    assert enrollment["status"] == "confirmed"
    time.sleep(0.35)
    enrollment = eduframe.get(f"/enrollments/{enrollment['id']}").json()
    assert (enrollment["status"], enrollment["graduation_state"]) == ("completed", "passed")


def test_advancing_the_clock_drives_auto_progress_without_waiting(
    eduframe: httpx.Client, control: httpx.Client
) -> None:
    control.put("/eduframe/auto_progress", json={"complete_after_seconds": 3600, "graduation_state": "failed"})
    _order(eduframe, EduframeSeed.FIRST_AID_VARIANT_ID, BRAM)
    assert _state(control)["enrollments"][0]["status"] == "confirmed"
    control.post("/clock/advance", json={"seconds": 3600}).raise_for_status()
    assert [(e["status"], e["graduation_state"]) for e in _state(control)["enrollments"]] == [("completed", "failed")]

    control.put("/eduframe/auto_progress", json={"complete_after_seconds": None})
    _order(eduframe, EduframeSeed.FIRST_AID_VARIANT_ID, CHLOE)
    control.post("/clock/advance", json={"seconds": 7200}).raise_for_status()
    assert _state(control)["enrollments"][1]["status"] == "confirmed"


# -- reset -------------------------------------------------------------------------------------------


def test_reset_reseeds_the_same_demo_data(eduframe: httpx.Client, control: httpx.Client) -> None:
    before = _state(control)
    eduframe.post("/users", json={"email": "temp@sandbox.example", "first_name": "T", "last_name": "Emp"})
    _order(eduframe, EduframeSeed.WORKPLACE_SAFETY_VARIANT_ID, ANNA)
    assert control.post("/reset").status_code == 200
    after = _state(control)
    assert after == before
    assert [u["email"] for u in after["users"]] == [EduframeSeed.ADMIN_EMAIL, *EduframeSeed.LEARNER_EMAILS]
    assert (
        eduframe.post("/users", json={"email": "n@sandbox.example", "first_name": "N", "last_name": "N"}).json()["id"]
        == len(EduframeSeed.LEARNER_IDS) + 2
    )
