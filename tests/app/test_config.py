"""The effective Streamlit settings the deployment relies on."""

from __future__ import annotations

import os

from streamlit import config

from tests.conftest import PROJECT_DIR


def test_effective_streamlit_settings_are_hardened_and_offline(monkeypatch):
    monkeypatch.chdir(PROJECT_DIR)
    config._config_options = None  # re-read .streamlit/config.toml from the project
    try:
        config.get_config_options(force_reparse=True)
        assert config.get_option("browser.gatherUsageStats") is False
        assert config.get_option("client.showErrorDetails") == "none"
        assert config.get_option("server.enableXsrfProtection") is True
        assert config.get_option("server.address") == "127.0.0.1"
        assert config.get_option("server.maxUploadSize") == 256
        assert config.get_option("server.headless") is True
        # A full collection after every run serialised the sessions (benchmarks/load.py).
        assert config.get_option("runner.postScriptGC") is False
    finally:
        config._config_options = None
    assert os.path.isfile(PROJECT_DIR / ".streamlit" / "config.toml")
