"""The JSON API under ``/api/v1``: what booths and scripts talk to."""
