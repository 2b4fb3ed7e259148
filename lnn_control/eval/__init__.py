"""Closed-loop evaluation, metrics and reports."""
