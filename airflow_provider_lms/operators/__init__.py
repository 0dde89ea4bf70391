"""Generic operators, by capability; they work with every platform that has the capability."""

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
