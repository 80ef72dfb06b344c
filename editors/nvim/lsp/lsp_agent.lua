-- The lsp-agent language server for Neovim 0.11+:
--   vim.lsp.config('lsp_agent', { settings = { lspAgent = { model = { baseUrl = '…', name = '…' } } } })
--   vim.lsp.enable('lsp_agent')
-- The configuration is shared with require('lsp_agent').setup{} (lua/lsp_agent/config.lua).
return require('lsp_agent.config').lsp_config()
