"""What every platform hook shares: connection parsing, the HTTP core, and the capability surface.

The generic operators and sensors speak only to :class:`LmsHook`. A platform hook implements the
capabilities it has and declares them in ``capabilities``; asking a hook for one it lacks fails at
once with a message that names the platforms that have it.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, cast

from airflow.sdk import BaseHook

from airflow_provider_lms.hooks.capabilities import CAPABILITIES, platforms_with
from airflow_provider_lms.http.client import ErrorParser, LmsHttpClient
from airflow_provider_lms.http.errors import LmsCapabilityError, LmsError, LmsInputError
from airflow_provider_lms.models.connection import LmsConnection
from airflow_provider_lms.models.inputs import LearnerSpec, ScoreRow, validate_id
from airflow_provider_lms.models.results import ItemResult
from airflow_provider_lms.models.state import EnrollmentState, NormalizedEnrollment

if TYPE_CHECKING:
    import httpx
    from airflow.sdk import Connection

__all__ = ["CAPABILITIES", "EnrollmentRef", "LmsHook"]

ConfigT = TypeVar("ConfigT", bound=LmsConnection)


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


class LmsHook(BaseHook, Generic[ConfigT]):
    """Base of the platform hooks: parses the connection once and owns one :class:`LmsHttpClient`.

    :param lms_conn_id: the Airflow connection id.
    :param connection: the connection, when the caller has already read it (``get_lms_hook`` has, to
        choose the hook class): it is not read a second time.
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
    #: Whether the platform says pass or fail, not only completion (``EnrollmentCompletedSensor(require_passed=)``).
    reports_pass: ClassVar[bool] = True
    #: The typed model the connection is parsed into.
    connection_model: ClassVar[type[LmsConnection]] = LmsConnection
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
        connection: Connection | None = None,
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.lms_conn_id = lms_conn_id or self.default_conn_name
        self._connection = connection
        self._transport = transport
        self._async_transport = async_transport
        self._config: LmsConnection | None = None
        self._client: LmsHttpClient | None = None
        self._aclient: LmsHttpClient | None = None
        # Bulk operators call the hook from several threads. Reading the connection in a real Airflow worker
        # talks to the task supervisor over one channel, and task SDK 1.2 (Airflow 3.2) garbles its frames
        # when two threads use it at once (the task hangs and its memory grows). One thread at a time.
        self._client_lock = threading.Lock()

    # -- connection -> settings -> client -------------------------------------------------------------------
    def parse_connection(self, conn: Connection) -> ConfigT:
        """The connection as this platform's typed model; errors name the field."""
        model = self.connection_model.from_connection(
            conn,
            conn_id=self.lms_conn_id,
            default_base_url=self.default_base_url,
            default_client_settings=self.default_client_settings,
        )
        return cast(ConfigT, model)

    def _adopt(self, config: ConfigT) -> ConfigT:
        if self._config is None:
            self._config = config
        # The parsed model is all the hook needs from here on; the connection is not kept around.
        self._connection = None
        return cast(ConfigT, self._config)

    @property
    def connection_config(self) -> ConfigT:
        """The connection's settings, parsed on first use (once, whichever thread asks first)."""
        if self._config is None:
            with self._client_lock:
                if self._config is None:
                    conn = self._connection if self._connection is not None else self.get_connection(self.lms_conn_id)
                    self._adopt(self.parse_connection(conn))
        return cast(ConfigT, self._config)

    async def aconnection_config(self) -> ConfigT:
        """The async twin of :attr:`connection_config`: reads with ``aget_connection`` (safe in the triggerer)."""
        if self._config is None:
            conn = self._connection if self._connection is not None else await self.aget_connection(self.lms_conn_id)
            # No lock here: a triggerer runs one event loop, and blocking it on a thread lock would stall it.
            self._adopt(self.parse_connection(conn))
        return cast(ConfigT, self._config)

    def auth_for(self, config: ConfigT) -> httpx.Auth | None:
        """The ``httpx.Auth`` carrying this platform's credentials."""
        return None

    def error_parser(self) -> ErrorParser | None:
        """Turns this platform's error answers into a :class:`~airflow_provider_lms.http.client.PlatformError`."""
        return None

    def build_client(self, config: ConfigT, *, for_async: bool = False) -> LmsHttpClient:
        """A new :class:`LmsHttpClient` for the parsed connection ``config``."""
        return LmsHttpClient(
            config.settings,
            platform=self.platform,
            auth=self.auth_for(config),
            headers=self.default_headers,
            error_parser=self.error_parser(),
            limiter_key=f"{self.conn_type}:{self.lms_conn_id}",
            transport=self._transport,
            async_transport=self._async_transport,
        )

    def get_conn(self) -> LmsHttpClient:
        """The sync client, built from the connection on first use (once, whichever thread asks first)."""
        if self._client is None:
            config = self.connection_config
            with self._client_lock:
                if self._client is None:
                    self._client = self.build_client(config)
        return self._client

    async def aget_conn(self) -> LmsHttpClient:
        """The async client; reads the connection with ``aget_connection`` (safe in the triggerer)."""
        if self._aclient is None:
            self._aclient = self.build_client(await self.aconnection_config(), for_async=True)
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

    def parse_group_id(self, field: str, value: Any) -> str:
        """Validate a learner group's id by this platform's rules."""
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

    def subscribe_group(self, course_id: str, group_id: str, **options: Any) -> ItemResult[Any]:
        """Subscribe one learner group to a course (members already subscribed are left as they are)."""
        self.require("subscribe_groups")
        raise NotImplementedError

    def unsubscribe_learner(self, course_id: str, learner_id: str, **options: Any) -> ItemResult[Any]:
        """Unsubscribe one learner; one who is not subscribed counts as already done."""
        self.require("unsubscribe")
        raise NotImplementedError

    def update_learner_subscription(
        self,
        course_id: str,
        learner_id: str,
        *,
        start_date: Any = None,
        expiry_date: Any = None,
        expired: bool | None = None,
        **options: Any,
    ) -> ItemResult[Any]:
        """Change one subscription's start date, expiry date and/or expired flag, unless it already matches."""
        self.require("update_subscription")
        raise NotImplementedError

    def revoke_certificate(self, learner_id: str, program_id: str, **options: Any) -> ItemResult[Any]:
        """Revoke a learner's certificate of a program; one who holds none counts as already done."""
        self.require("revoke_certificate")
        raise NotImplementedError

    def update_member_status(
        self,
        member_id: str,
        status: str,
        *,
        is_active_member: bool | None = None,
        start_date: Any = None,
        end_date: Any = None,
        **options: Any,
    ) -> ItemResult[Any]:
        """Set one member's (professional) status unless it already is that status.

        :param member_id: the member, as :meth:`check_member_status` returned it.
        :param status: the status name, e.g. ``"Retired"``.
        :param is_active_member: whether the status counts as active membership (None: the platform decides).
        :param start_date: when the status starts (None: the platform's default).
        :param end_date: when it ends (None: it runs on).
        :param options: the validated platform options.
        """
        self.require("update_member_status")
        raise NotImplementedError

    def check_member_status(
        self,
        field: str,
        member_id: Any,
        status: Any,
        *,
        is_active_member: bool | None = None,
        start_date: Any = None,
        end_date: Any = None,
        **options: Any,
    ) -> str:
        """Refuse what :meth:`update_member_status` would refuse, before any request.

        :param field: where the row is, e.g. ``statuses[3]``; errors name ``statuses[3].member_id``.
        :return: the member id in the platform's form (rows for the same member are then merged).
        """
        self.require("update_member_status")
        return validate_id(f"{field}.member_id", member_id)

    # -- platform rules for items, checked before a bulk run sends anything ------------------------------------
    def check_score_row(self, field: str, row: ScoreRow, **options: Any) -> None:
        """Refuse a score row this platform's :meth:`score_activity` would refuse; by default any row passes.

        :param field: where the row is, e.g. ``scores[3]``; errors name ``scores[3].score``.
        :param row: the validated row.
        :param options: the validated platform options.
        """

    def check_learner(self, field: str, learner: LearnerSpec, **options: Any) -> None:
        """Refuse a learner this platform's :meth:`ensure_learner` would refuse; by default any learner passes.

        :param field: where the learner is, e.g. ``learners[3]``; errors name ``learners[3].external_id``.
        :param learner: the validated learner.
        :param options: the validated platform options.
        """

    def learner_key(self, learner: LearnerSpec) -> str:
        """What identifies a learner on this platform, for merging duplicate rows (by default the e-mail)."""
        return learner.email

    def check_subscription_update(self, start_date: Any, expiry_date: Any, expired: Any, **options: Any) -> None:
        """Refuse values :meth:`update_learner_subscription` would refuse; by default any values pass.

        :param start_date: the new start date, or None.
        :param expiry_date: the new expiry date, or None.
        :param expired: the new expired flag, or None.
        :param options: the validated platform options.
        """

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
