"""The Pynter double: a SOAP 1.2 endpoint at ``/pynter/service/apiservice.asmx``.

Same envelope rules as Pynter (FACTS.md): ``POST`` with ``Content-Type: application/soap+xml``, a SOAP 1.2
envelope, the method element in the tenant's service namespace (default ``http://tempuri.org/``) whose first
two children are ``username`` and ``password`` (checked on every call), then the parameters; booleans must
be ``xsi:type="xsd:boolean"`` lower case, dateTimes ``yyyy-MM-ddTHH:mm:ss``. An ``action`` parameter of the
Content-Type, when sent, must be the namespace joined with the method. Requests are parsed with DTDs
refused (the double is as hardened as the client). Answers are
``<MethodResponse><MethodResult><Success/><Contents/><Error/>``; malformed requests, and parameters that
cannot be converted (``moduleId=abc``), get a SOAP 1.2 ``Fault`` (``soap:Sender``, HTTP 500 as ASMX answers
faults). ``GET .../apiservice.asmx?WSDL`` serves a WSDL 1.1 of the methods the double implements
(:mod:`.wsdl`, the double's own document).

Persons (pynter-params.md): ``GetPersonByExternalId``, ``GetPersonByPynterId``, ``CreatePerson``
(``personCreate``; ``Contents`` = the new id; an external id in use is refused) and ``UpdatePerson``
(``pynterPersonId``, ``personUpdate``), which **replaces the whole record**: a field left out is cleared and
``AccountLevel`` falls back to ``USER``. ``Blocked`` is the account's disable flag. The state counts, per
external id, the writes carried out (``person_writes``) and those that changed the person
(``person_revisions``).

Playing another tenant: ``PUT /_sandbox/pynter/service {"namespace": "/service/ApiService.asmx",
"param_names": {"GetPersonByExternalId": {"externalId": "externalIdentifier"}}}`` changes the namespace
requests must use and the parameter names the double reads (and its WSDL lists); a reset restores both.

ASSUMPTIONS (the document gives neither parameter names nor answer fields): parameter names are those
in ``airflow_provider_lms.hooks.pynter.ASSUMED_PARAMS``; wrong credentials answer ``Success=false`` with
``Invalid username or password.``; answer rows carry PascalCase fields after the data model's columns;
the refusal of a duplicate external id reads ``A person with this ExternalIdentifier already exists.``

Seeded demo data (dates relative to the reset moment, Dutch local time; credentials
``sandbox-pynter-user`` / ``sandbox-pynter-pass``):

======  ==========================  ========================================================
kind    ids                         details
======  ==========================  ========================================================
module  1 BHV (12 months, mandatory)   first-responder training, repeated yearly
module  2 VCA (120 months, mandatory)  safety certificate
module  3 AVG (no repeat)              privacy e-learning
person  E1001 Anna de Vries (1)     BHV results 26 and 14 months ago (latest expired); VCA 2 y
person  E1002 Farah El Amrani (2)   BHV 3 months ago; VCA 5 y ago; level MANAGER,
                                    job, division, phone... (merges must keep them)
person  E1003 Gijs Mulder (3)       BHV 13 months ago (expired); VCA 11 y ago (expired);
                                    started AVG (40 %)
person  E1004 Sanne Bakker (4)      BHV 1 month ago; never did VCA; AVG in overview (0 %)
class   1                           "BHV herhaling voorjaar", module 1, in 30 days
eticket ET-7F3A-0001, ET-7F3A-0002  E1002 and E1004 for class 1, not attended
======  ==========================  ========================================================

Overdue after a reset: (E1001, BHV), (E1003, BHV), (E1003, VCA); (E1004, VCA) has no result at all.

Moving time: ``PUT /_sandbox/pynter/auto_progress {"complete_after_seconds": 2}`` makes every person who is
overdue for a module finish it that many seconds after a class for that module is inserted
(``InsertClass``): a re-certification cohort that is attended and passed. ``POST /_sandbox/pynter/results``
adds a result directly; ``GET /_sandbox/pynter/state`` shows everything.

Package layout: ``soap`` (namespaces, escaping, envelope: the double's own), ``parsing`` (requests, with
defusedxml), ``records``, ``seed``, ``state`` (rules), ``errors`` (faults and ``Success=false``), ``views``
(answers), ``wsdl`` (the service description), ``routes`` (the endpoint and the method table), ``control``.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_lms.sandbox._common import PlatformMount
from airflow_provider_lms.sandbox.pynter.control import create_control_router
from airflow_provider_lms.sandbox.pynter.errors import Failure, Fault, render_error, render_fault
from airflow_provider_lms.sandbox.pynter.routes import (
    DOCUMENTED_METHODS,
    METHODS,
    PYNTER_PREFIX,
    ROUTES,
    SERVICE_PATH,
    create_router,
)
from airflow_provider_lms.sandbox.pynter.seed import PYNTER_SANDBOX_PASSWORD, PYNTER_SANDBOX_USERNAME, PynterSeed
from airflow_provider_lms.sandbox.pynter.state import PynterState

__all__ = [
    "DOCUMENTED_METHODS",
    "METHODS",
    "MOUNT",
    "PYNTER_PREFIX",
    "PYNTER_SANDBOX_PASSWORD",
    "PYNTER_SANDBOX_USERNAME",
    "ROUTES",
    "SERVICE_PATH",
    "Failure",
    "Fault",
    "PynterSeed",
    "PynterState",
    "render_fault",
]


def _connection(sandbox_url: str) -> dict[str, Any]:
    return {
        "conn_type": "pynter",
        "login": PYNTER_SANDBOX_USERNAME,
        "password": PYNTER_SANDBOX_PASSWORD,
        "extra": {"base_url": f"{sandbox_url.rstrip('/')}{PYNTER_PREFIX}"},
    }


MOUNT = PlatformMount(
    name="pynter",
    prefix=PYNTER_PREFIX,
    router_factory=create_router,
    render_error=render_error,
    state_factory=lambda clock: PynterState(clock=clock),
    control_router_factory=create_control_router,
    connection_factory=_connection,
    conn_id="pynter_default",
)
