"""Generic operators, by capability; they work with every platform that has the capability.

``from airflow_provider_lms.operators import LmsSubscribeOperator`` imports only the module that defines it
(PEP 562 ``__getattr__``): a DAG file pays at parse time for the operators it names, not for all of them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_lms.operators.call import LmsCallOperator
    from airflow_provider_lms.operators.certificates import LmsRevokeCertificateOperator
    from airflow_provider_lms.operators.enrollment import (
        LmsAwardCertificateOperator,
        LmsScoreExternalActivityOperator,
        LmsSubscribeOperator,
    )
    from airflow_provider_lms.operators.learners import LmsEnsureLearnersOperator
    from airflow_provider_lms.operators.members import LmsUpdateMemberStatusesOperator
    from airflow_provider_lms.operators.subscriptions import (
        LmsSubscribeGroupsOperator,
        LmsUnsubscribeOperator,
        LmsUpdateSubscriptionOperator,
    )

#: Each public operator and the module under ``airflow_provider_lms.operators`` that defines it.
_MODULES = {
    "LmsAwardCertificateOperator": "enrollment",
    "LmsCallOperator": "call",
    "LmsEnsureLearnersOperator": "learners",
    "LmsRevokeCertificateOperator": "certificates",
    "LmsScoreExternalActivityOperator": "enrollment",
    "LmsSubscribeGroupsOperator": "subscriptions",
    "LmsSubscribeOperator": "enrollment",
    "LmsUnsubscribeOperator": "subscriptions",
    "LmsUpdateMemberStatusesOperator": "members",
    "LmsUpdateSubscriptionOperator": "subscriptions",
}

__all__ = [
    "LmsAwardCertificateOperator",
    "LmsCallOperator",
    "LmsEnsureLearnersOperator",
    "LmsRevokeCertificateOperator",
    "LmsScoreExternalActivityOperator",
    "LmsSubscribeGroupsOperator",
    "LmsSubscribeOperator",
    "LmsUnsubscribeOperator",
    "LmsUpdateMemberStatusesOperator",
    "LmsUpdateSubscriptionOperator",
]


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # the next look-up is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_MODULES})
