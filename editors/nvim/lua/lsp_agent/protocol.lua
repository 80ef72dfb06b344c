-- The agent protocol over LSP (PROTOCOL.md, schemas/): every method name spelled once.
local M = {}

M.NAME = 'lsp_agent' -- the LSP client name (vim.lsp.config / vim.lsp.get_clients)

-- client -> server
M.SESSION_NEW = 'agent/session/new'
M.SESSION_PROMPT = 'agent/session/prompt'
M.SESSION_CANCEL = 'agent/session/cancel' -- notification
M.SESSION_LIST = 'agent/session/list'
M.SESSION_LOAD = 'agent/session/load'
M.SESSION_UNDO = 'agent/session/undo'
M.COMMANDS = 'agent/commands' -- the slash commands a prompt may start with
M.SESSION_CONFIG = 'agent/session/config' -- read or switch a session's mode, model, review

-- server -> client
M.SESSION_UPDATE = 'agent/session/update' -- notification
M.REQUEST_PERMISSION = 'agent/session/request_permission'
M.GET_DIAGNOSTICS = 'agent/getDiagnostics'
M.SAVE_DOCUMENTS = 'agent/saveDocuments'
M.LANGUAGE_FEATURE = 'agent/languageFeature' -- an LSP request for the other language servers
M.REVIEW = 'agent/review' -- review an agent edit (per hunk or whole file) before it is written

-- standard LSP methods the plugin touches
M.APPLY_EDIT = 'workspace/applyEdit'
M.CODE_ACTION = 'textDocument/codeAction'

-- workspace/executeCommand commands (the code actions' commands)
M.CMD_FIX = 'lspAgent.fix'
M.CMD_ASK = 'lspAgent.ask'
M.CMD_RUN = 'lspAgent.run'
M.CMD_CANCEL = 'lspAgent.cancel'
M.CMD_UNDO = 'lspAgent.undo'

-- settings section (initializationOptions and workspace/configuration)
M.SECTION = 'lspAgent'

-- capabilities.experimental.lspAgent: the server->client requests this client answers
M.CLIENT_CAPABILITIES = {
  requestPermission = true,
  getDiagnostics = true,
  saveDocuments = true,
  languageFeatures = true, -- agent/languageFeature, from the other attached language servers
  review = true, -- agent/review: a diff view with per-hunk accept / reject (lua/lsp_agent/review.lua)
}

-- the embedded resource that carries the editor's diagnostics (@problems)
M.PROBLEMS_URI = 'lsp-agent:problems'

-- server-defined JSON-RPC error: the session already runs a prompt
M.SESSION_BUSY = -32002

return M
