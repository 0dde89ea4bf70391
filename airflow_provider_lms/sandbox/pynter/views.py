"""Pynter's answers: ``<MethodResponse><MethodResult><Success/><Contents/><Error/>`` in a SOAP 1.2 envelope,
and the control API's JSON view of the state."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import quoteattr

from starlette.responses import Response

from airflow_provider_lms.sandbox.pynter.errors import SOAP_MEDIA_TYPE
from airflow_provider_lms.sandbox.pynter.soap import TEMPURI_NS, envelope, escape_text

if TYPE_CHECKING:
    from airflow_provider_lms.sandbox.pynter.state import PynterState

__all__ = ["answer", "format_datetime", "state_summary", "xml_element"]


def format_datetime(value: datetime | date) -> str:
    """``yyyy-MM-ddTHH:mm:ss`` (a date is midnight), the form Pynter writes."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S")
    return value.strftime("%Y-%m-%dT00:00:00")


def xml_element(name: str, value: Any) -> str:
    """``value`` as element(s) ``name``: nil, a boolean, a dateTime, a record (dict) or repeated (list)."""
    if value is None:
        return f'<{name} xsi:nil="true" />'
    if isinstance(value, bool):
        return f"<{name}>{'true' if value else 'false'}</{name}>"
    if isinstance(value, datetime | date):
        return f"<{name}>{format_datetime(value)}</{name}>"
    if isinstance(value, dict):
        return f"<{name}>{''.join(xml_element(k, v) for k, v in value.items())}</{name}>"
    if isinstance(value, list):
        return "".join(xml_element(name, v) for v in value)
    return f"<{name}>{escape_text(str(value))}</{name}>"


def _contents(contents: Any, row: str) -> str:
    if isinstance(contents, list):
        return f"<Contents>{''.join(xml_element(row, c) for c in contents)}</Contents>"
    if contents is None:
        return "<Contents />"
    return xml_element("Contents", contents)


def answer(
    method: str,
    success: bool,
    contents: Any = None,
    error: str | None = None,
    row: str = "Row",
    namespace: str = TEMPURI_NS,
) -> Response:
    """A method's answer, in the service ``namespace``; a list in ``contents`` becomes one ``row`` element per item."""
    error_xml = f"<Error>{escape_text(error)}</Error>" if error else "<Error />"
    inner = (
        f"<{method}Response xmlns={quoteattr(namespace)}><{method}Result>"
        f"<Success>{'true' if success else 'false'}</Success>{_contents(contents, row)}{error_xml}"
        f"</{method}Result></{method}Response>"
    )
    return Response(envelope(inner), media_type=SOAP_MEDIA_TYPE)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return format_datetime(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def state_summary(state: PynterState) -> dict[str, Any]:
    """The whole state as JSON, for tests (``GET /_sandbox/pynter/state``)."""
    return _jsonable({
        "persons": list(state.persons.values()), "results": state.results, "classes": list(state.classes.values()),
        "etickets": list(state.etickets.values()), "calls": state.calls, "planning": state.planning(),
        "pending": [{"external_id": e, "module_id": m, "due": d} for e, m, d in state.pending],
        "person_revisions": state.person_revisions, "person_writes": state.person_writes,
        "namespace": state.namespace, "param_names": state.param_names,
        "wsdl_reads": state.wsdl_reads,
    })  # fmt: skip
