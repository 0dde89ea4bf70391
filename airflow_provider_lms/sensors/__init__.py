"""Sensors that wait for learners and periods."""
