"""The Agent Client Protocol front end (`lsp-agent acp`): a second adapter over the engine's
session service, next to the language server. It never imports pygls."""
