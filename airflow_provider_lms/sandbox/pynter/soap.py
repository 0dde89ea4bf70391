"""SOAP 1.2 as the Pynter double writes it: the namespaces, text escaping and the envelope.

The double's own code, not the client's (``airflow_provider_lms.soap``): a double that shared the client's
envelope code would share its mistakes. Reading requests is in :mod:`.parsing`.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

__all__ = [
    "SOAP12_NS",
    "TEMPURI_NS",
    "XSD_NS",
    "XSI_NS",
    "envelope",
    "escape_text",
    "local_name",
]

# The published namespace URIs: SOAP 1.2 (W3C), the ASMX default namespace, XML Schema and its instance.
SOAP12_NS = "http://www.w3.org/2003/05/soap-envelope"
TEMPURI_NS = "http://tempuri.org/"
XSD_NS = "http://www.w3.org/2001/XMLSchema"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"


def escape_text(value: str) -> str:
    """Text content that reads back unchanged: ``&``, ``<``, ``>`` as entities, and a carriage return as
    ``&#13;`` (a parser turns a literal CR into LF)."""
    return escape(value, {"\r": "&#13;"})


def local_name(tag: str) -> str:
    """``{namespace}Name`` -> ``Name``."""
    return tag.rpartition("}")[2]


def envelope(inner: str) -> str:
    """A SOAP 1.2 envelope around ``inner``, the body's content."""
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<soap:Envelope xmlns:soap="{SOAP12_NS}" xmlns:xsi="{XSI_NS}" xmlns:xsd="{XSD_NS}">'
        f"<soap:Body>{inner}</soap:Body></soap:Envelope>"
    )
