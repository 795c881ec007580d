"""Shared fixtures. Expensive artifacts (trained/converted models) are session-scoped and cached on disk
through tests/artifact_cache.py, so the suite pays for each model once."""
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/ helpers (artifact_cache) importable

# Same switches the package sets, before anything imports TensorFlow.
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")

from pipeline_fixtures import photo_folder, photo_run, trained_run  # noqa: E402,F401  (session fixtures shared by test packages)
