"""Adapters to other libraries' generators, registered under their own prefix (``sdv.*``).

They register only when the optional dependency is installed.
"""
