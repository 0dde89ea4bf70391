"""Platform hooks. Import a hook from its module, e.g. ``airflow_provider_lms.hooks.eduframe``."""

# Every platform module is imported with the package, so the capability table (hooks/capabilities.py) lists
# every platform whichever hook a DAG imports first. Not sorted: this order is the order in which error
# messages name the platforms ("platforms that can: Eduframe, aNewSpring").
# isort: off
from airflow_provider_lms.hooks import eduframe as eduframe
from airflow_provider_lms.hooks import anewspring as anewspring
from airflow_provider_lms.hooks import pluvo as pluvo
from airflow_provider_lms.hooks import pynter as pynter
from airflow_provider_lms.hooks import lara as lara

# isort: on
