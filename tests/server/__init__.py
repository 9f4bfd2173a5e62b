"""Tests of the central server (server/)."""
