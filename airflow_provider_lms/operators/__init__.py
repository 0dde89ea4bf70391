"""Generic operators, by capability; they work with every platform that has the capability."""

from airflow_provider_lms.operators.enrollment import (
    LmsAwardCertificateOperator,
    LmsScoreExternalActivityOperator,
    LmsSubscribeOperator,
)
from airflow_provider_lms.operators.learners import LmsEnsureLearnersOperator
from airflow_provider_lms.operators.subscriptions import (
    LmsSubscribeGroupsOperator,
    LmsUnsubscribeOperator,
    LmsUpdateSubscriptionOperator,
)

__all__ = [
    "LmsAwardCertificateOperator",
    "LmsEnsureLearnersOperator",
    "LmsScoreExternalActivityOperator",
    "LmsSubscribeGroupsOperator",
    "LmsSubscribeOperator",
    "LmsUnsubscribeOperator",
    "LmsUpdateSubscriptionOperator",
]
