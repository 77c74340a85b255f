"""Shared machinery: devices, random generators, safe serialisation, progress."""
