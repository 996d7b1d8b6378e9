"""Reads: queries the pipeline, the API and the admin share."""
