"""Apache Airflow provider for learning and training-administration platforms."""

__version__ = "0.1.0"
