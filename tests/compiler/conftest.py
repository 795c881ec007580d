"""Fixtures for the compiled-runtime tests (helpers live in compiler_helpers.py)."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # model_zoo, flatbuffer_models, compiler_helpers


@pytest.fixture(scope="session")
def zoo():
    import model_zoo

    return model_zoo
