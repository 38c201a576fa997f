"""Operators' commands against a deployed stack (python -m murur.ops.<command>)."""
