"""What every platform hook shares: connection parsing, the HTTP core, and the capability surface.

The generic operators and sensors speak only to :class:`LmsHook`. A platform hook implements the
capabilities it has and declares them in ``capabilities``; asking a hook for one it lacks fails at
once with a message that names the platforms that have it.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import BaseHook

from airflow_provider_lms.http.auth import mask
from airflow_provider_lms.http.bulk import ItemResult
from airflow_provider_lms.http.client import ErrorParser, LmsHttpClient
from airflow_provider_lms.http.config import ClientSettings
from airflow_provider_lms.http.errors import LmsCapabilityError, LmsError, LmsInputError
from airflow_provider_lms.models.inputs import LearnerSpec, ScoreRow, validate_id
from airflow_provider_lms.models.state import EnrollmentState, NormalizedEnrollment

if TYPE_CHECKING:
    import httpx
    from airflow.sdk import Connection

__all__ = ["CAPABILITIES", "EnrollmentRef", "LmsHook"]

#: Capability name -> what it lets a DAG do, for error messages.
CAPABILITIES: dict[str, str] = {
    "ensure_learners": "find or create learners",
    "subscribe": "subscribe learners to a course",
    "score_external_activity": "record scores of external activities",
    "award_certificate": "award certificates",
    "enrollment_status": "report enrollment status (EnrollmentCompletedSensor)",
    "subscribe_groups": "subscribe learner groups to a course",
    "unsubscribe": "unsubscribe learners from a course",
    "update_subscription": "change a subscription's start date, expiry date or expired flag",
}


class EnrollmentRef:
    """Which enrollment to look at: by its id, or by learner and course.

    :param enrollment_id: the platform's enrollment id.
    :param learner_id: the learner's id (with ``course_id``).
    :param course_id: the course's id (with ``learner_id``).
    """

    def __init__(
        self, *, enrollment_id: str | None = None, learner_id: str | None = None, course_id: str | None = None
    ) -> None:
        if enrollment_id is None and (learner_id is None or course_id is None):
            raise LmsInputError("enrollment_id", "give enrollment_id, or both learner_id and course_id")
        self.enrollment_id = None if enrollment_id is None else validate_id("enrollment_id", enrollment_id)
        self.learner_id = None if learner_id is None else validate_id("learner_id", learner_id)
        self.course_id = None if course_id is None else validate_id("course_id", course_id)

    def to_dict(self) -> dict[str, str | None]:
        """JSON-safe form, for trigger kwargs."""
        return {
            "enrollment_id": self.enrollment_id,
            "learner_id": self.learner_id,
            "course_id": self.course_id,
        }

    def __repr__(self) -> str:
        if self.enrollment_id is not None:
            return f"enrollment {self.enrollment_id}"
        return f"learner {self.learner_id} in course {self.course_id}"


class LmsHook(BaseHook):
    """Base of the platform hooks: reads the connection and owns one :class:`LmsHttpClient`.

    :param lms_conn_id: the Airflow connection id.
    :param transport: an httpx transport for the sync client (tests only).
    :param async_transport: an httpx transport for the async client (tests only).
    """

    conn_name_attr = "lms_conn_id"
    default_conn_name = "lms_default"
    conn_type = ""
    hook_name = ""
    #: The platform's display name.
    platform: ClassVar[str] = ""
    #: Names from :data:`CAPABILITIES` this platform supports.
    capabilities: ClassVar[frozenset[str]] = frozenset()
    #: Used when the connection gives no base URL.
    default_base_url: ClassVar[str | None] = None
    #: Client settings this platform needs by default (e.g. a documented rate limit).
    default_client_settings: ClassVar[dict[str, Any]] = {}
    #: Headers sent with every request.
    default_headers: ClassVar[dict[str, str]] = {"Accept": "application/json"}

    def __init__(
        self,
        lms_conn_id: str | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.lms_conn_id = lms_conn_id or self.default_conn_name
        self._transport = transport
        self._async_transport = async_transport
        self._client: LmsHttpClient | None = None
        self._aclient: LmsHttpClient | None = None
        # Bulk operators call the hook from several threads. Reading the connection in a real Airflow worker
        # talks to the task supervisor over one channel, and task SDK 1.2 (Airflow 3.2) garbles its frames
        # when two threads use it at once (the task hangs and its memory grows). One thread at a time.
        self._client_lock = threading.Lock()

    # -- connection -> client ---------------------------------------------------------------------------
    @staticmethod
    def extras(conn: Connection) -> dict[str, Any]:
        """The connection's extras as a dict (the form's custom fields live there)."""
        extra = conn.extra_dejson
        return extra if isinstance(extra, dict) else {}

    def base_url_for(self, conn: Connection) -> str:
        """The API root: the form's ``base_url``, else the host field, else the platform default."""
        extras = self.extras(conn)
        url = extras.get("base_url") or conn.host or self.default_base_url
        if not url:
            raise LmsInputError(f"connection {self.lms_conn_id!r} base_url", "is empty")
        return str(url)

    def settings_for(self, conn: Connection) -> ClientSettings:
        """Client settings from the connection over the platform defaults; errors name the field."""
        try:
            return ClientSettings.from_values(self.base_url_for(conn), self.extras(conn), self.default_client_settings)
        except LmsInputError as exc:
            raise LmsInputError(
                f"connection {self.lms_conn_id!r} {exc.field}", exc.message.split(": ", 1)[-1]
            ) from None

    def auth_for(self, conn: Connection) -> httpx.Auth | None:
        """The ``httpx.Auth`` carrying this platform's credentials."""
        return None

    def error_parser(self) -> ErrorParser | None:
        """Turns this platform's error answers into a :class:`~airflow_provider_lms.http.client.PlatformError`."""
        return None

    def secret(self, conn: Connection, value: str | None, field: str) -> str:
        """A required secret from the connection, masked in logs from here on."""
        if not value:
            raise LmsInputError(f"connection {self.lms_conn_id!r} {field}", "is empty")
        mask(value)
        return value

    def build_client(self, conn: Connection, *, for_async: bool = False) -> LmsHttpClient:
        """A new :class:`LmsHttpClient` for ``conn``."""
        return LmsHttpClient(
            self.settings_for(conn),
            platform=self.platform,
            auth=self.auth_for(conn),
            headers=self.default_headers,
            error_parser=self.error_parser(),
            limiter_key=f"{self.conn_type}:{self.lms_conn_id}",
            transport=self._transport,
            async_transport=self._async_transport,
        )

    def get_conn(self) -> LmsHttpClient:
        """The sync client, built from the connection on first use (once, whichever thread asks first)."""
        if self._client is None:
            with self._client_lock:
                if self._client is None:
                    self._client = self.build_client(self.get_connection(self.lms_conn_id))
        return self._client

    async def aget_conn(self) -> LmsHttpClient:
        """The async client; reads the connection with ``aget_connection`` (safe in the triggerer)."""
        if self._aclient is None:
            conn = await self.aget_connection(self.lms_conn_id)
            self._aclient = self.build_client(conn, for_async=True)
        return self._aclient

    @property
    def client(self) -> LmsHttpClient:
        """Shorthand for :meth:`get_conn`."""
        return self.get_conn()

    def close(self) -> None:
        """Close pooled connections."""
        if self._client is not None:
            self._client.close()

    async def aclose(self) -> None:
        """Close the async client's pooled connections."""
        if self._aclient is not None:
            await self._aclient.aclose()

    # -- the UI's Test button -------------------------------------------------------------------------------
    def check_connection(self) -> str:
        """Make one cheap authenticated call; return a line for the UI. Platforms override this."""
        raise LmsCapabilityError(f"testing a {self.platform} connection is not available in this version")

    def test_connection(self) -> tuple[bool, str]:
        """Used by the Airflow UI's Test button; never raises and never shows a secret."""
        try:
            return True, self.check_connection()
        except LmsError as exc:
            return False, str(exc)
        except Exception as exc:
            # Unexpected errors may carry request details; show only their type.
            return False, f"{self.platform} connection test failed: {type(exc).__name__}"

    # -- capabilities ---------------------------------------------------------------------------------------
    @classmethod
    def supports(cls, capability: str) -> bool:
        """Whether this platform has ``capability``."""
        return capability in cls.capabilities

    def require(self, capability: str) -> None:
        """Raise :class:`LmsCapabilityError` naming the platforms that can, if this one cannot."""
        if self.supports(capability):
            return
        from airflow_provider_lms.hooks.registry import platforms_with

        able = ", ".join(platforms_with(capability)) or "none yet"
        raise LmsCapabilityError(
            f"{self.platform} cannot {CAPABILITIES.get(capability, capability)} "
            f"(connection {self.lms_conn_id!r}); platforms that can: {able}"
        )

    def parse_learner_id(self, field: str, value: Any) -> str:
        """Validate a learner id by this platform's rules; raise :class:`LmsInputError` naming ``field``."""
        return validate_id(field, value)

    def parse_course_id(self, field: str, value: Any) -> str:
        """Validate a course id by this platform's rules."""
        return validate_id(field, value)

    def parse_enrollment_id(self, field: str, value: Any) -> str:
        """Validate an enrollment id by this platform's rules."""
        return validate_id(field, value)

    def parse_program_id(self, field: str, value: Any) -> str:
        """Validate a program (certificate) id by this platform's rules."""
        return validate_id(field, value)

    def validate_options(self, capability: str, options: dict[str, Any]) -> dict[str, Any]:
        """Check an operator's platform options before any request; platforms override this."""
        return options

    def ensure_learner(self, learner: LearnerSpec, **options: Any) -> ItemResult[Any]:
        """Find the learner by e-mail or create them; result ``{"learner_id": ...}``."""
        self.require("ensure_learners")
        raise NotImplementedError

    def subscribe_learner(self, course_id: str, learner_id: str, **options: Any) -> ItemResult[Any]:
        """Enroll one learner in one course unless already enrolled; result ``{"enrollment_id": ...}``."""
        self.require("subscribe")
        raise NotImplementedError

    def score_activity(self, row: ScoreRow, **options: Any) -> ItemResult[Any]:
        """Record one external result unless the same is already recorded."""
        self.require("score_external_activity")
        raise NotImplementedError

    def award_certificate(self, learner_id: str, program_id: str, **options: Any) -> ItemResult[Any]:
        """Award a learner the certificate of a program unless already awarded."""
        self.require("award_certificate")
        raise NotImplementedError

    def not_enrolled(self, learner_id: str | None, course_id: str | None) -> NormalizedEnrollment:
        """The answer for a learner the platform has no enrollment for (a sensor stops waiting on it)."""
        return NormalizedEnrollment(
            platform=self.platform, state=EnrollmentState.NOT_ENROLLED, learner_id=learner_id, course_id=course_id
        )

    def get_enrollment_state(self, ref: EnrollmentRef) -> NormalizedEnrollment:
        """The normalized state of one enrollment."""
        self.require("enrollment_status")
        raise NotImplementedError

    async def aget_enrollment_state(self, ref: EnrollmentRef) -> NormalizedEnrollment:
        """The async twin of :meth:`get_enrollment_state`, for triggers."""
        self.require("enrollment_status")
        raise NotImplementedError
