"""Exports of a model for other build systems: an Arduino library (arduino.py)."""
