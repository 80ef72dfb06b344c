"""In-process fakes of the things lsp-agent talks to (see model_server.py)."""
