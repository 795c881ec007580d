"""Keras → full-int8 TFLite → C array, with reports."""
