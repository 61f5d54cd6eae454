import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "deploy: builds a venv and starts real servers (about a minute); run in CI"
    )
