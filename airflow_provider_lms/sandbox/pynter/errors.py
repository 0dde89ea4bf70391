"""Pynter's two kinds of error: a SOAP 1.2 fault (a malformed call) and ``Success=false`` (a refused one)."""

from __future__ import annotations

from starlette.responses import Response

from airflow_provider_lms.sandbox._common import SandboxHTTPError
from airflow_provider_lms.sandbox.pynter.soap import envelope, escape_text

__all__ = ["SOAP_MEDIA_TYPE", "Failure", "Fault", "render_error", "render_fault"]

SOAP_MEDIA_TYPE = "application/soap+xml; charset=utf-8"


def render_fault(status: int, reason: str, code: str = "soap:Receiver") -> Response:
    """A SOAP 1.2 fault answer (also used for injected faults and unknown paths)."""
    inner = (
        f"<soap:Fault><soap:Code><soap:Value>{code}</soap:Value></soap:Code>"
        f'<soap:Reason><soap:Text xml:lang="en">{escape_text(reason)}</soap:Text></soap:Reason></soap:Fault>'
    )
    return Response(envelope(inner), status_code=status, media_type=SOAP_MEDIA_TYPE)


class Fault(SandboxHTTPError):
    """Answer with a SOAP 1.2 fault (HTTP 500 by default, as ASMX answers faults).

    :param reason: The fault's ``Reason`` text.
    :param code: The fault's ``Code`` value, ``soap:Sender`` for a bad request.
    :param status: HTTP status code.
    """

    def __init__(self, reason: str, code: str = "soap:Sender", status: int = 500) -> None:
        super().__init__(status, reason)
        self.reason, self.code = reason, code

    def to_response(self) -> Response:
        return render_fault(self.status, self.reason, self.code)


class Failure(Exception):
    """Answer ``Success=false`` with this ``Error`` text (a well-formed call Pynter refuses)."""


def render_error(status: int, message: str) -> Response:
    """``ErrorRenderer`` for unknown paths and injected faults: a fault, ``soap:Sender`` below 500."""
    return render_fault(status, message, "soap:Sender" if status < 500 else "soap:Receiver")
