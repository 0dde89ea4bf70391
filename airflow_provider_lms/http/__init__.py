"""The one HTTP core shared by every platform hook."""

from airflow_provider_lms.http.auth import BearerAuth, HeaderAuth, OAuth2ClientCredentials
from airflow_provider_lms.http.bulk import BulkRunner, BulkSummary, ItemOutcome
from airflow_provider_lms.http.client import LmsHttpClient, PlatformError, RetryRecorder, parse_retry_after
from airflow_provider_lms.http.config import ClientSettings
from airflow_provider_lms.http.errors import (
    LmsAuthenticationError,
    LmsCapabilityError,
    LmsCircuitOpenError,
    LmsConflictError,
    LmsError,
    LmsInputError,
    LmsNotFoundError,
    LmsPermissionError,
    LmsRateLimitedError,
    LmsResponseTooLargeError,
    LmsServerError,
    LmsTransportError,
    LmsValidationError,
)

# Re-exported here because DAG code, tests and benchmarks import them from the HTTP package.
from airflow_provider_lms.models.results import ItemResult, ItemStatus

__all__ = [
    "BearerAuth",
    "BulkRunner",
    "BulkSummary",
    "ClientSettings",
    "HeaderAuth",
    "ItemOutcome",
    "ItemResult",
    "ItemStatus",
    "LmsAuthenticationError",
    "LmsCapabilityError",
    "LmsCircuitOpenError",
    "LmsConflictError",
    "LmsError",
    "LmsHttpClient",
    "LmsInputError",
    "LmsNotFoundError",
    "LmsPermissionError",
    "LmsRateLimitedError",
    "LmsResponseTooLargeError",
    "LmsServerError",
    "LmsTransportError",
    "LmsValidationError",
    "OAuth2ClientCredentials",
    "PlatformError",
    "RetryRecorder",
    "parse_retry_after",
]
