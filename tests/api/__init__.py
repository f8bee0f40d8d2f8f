"""Tests of the HTTP event API."""
