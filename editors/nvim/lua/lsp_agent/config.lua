-- Options, and the LSP client configuration built from them (used by setup() and lsp/lsp_agent.lua).
local protocol = require('lsp_agent.protocol')

local M = {}

---@class lsp_agent.TranscriptOptions
---@field layout 'vsplit'|'split'|'float'|'tab'
---@field size integer? width of a vsplit, height of a split
---@field float table { width, height (fractions of the editor), border }
---@field auto_open boolean show a session's transcript when a run starts
---@field enter boolean move the cursor into the transcript when it opens
---@field fold_thoughts boolean fold the model's thoughts
---@field max_output_lines integer tool output lines shown (the last ones)
---@field max_diff_lines integer diff lines shown per edit

---@class lsp_agent.Options
---@field cmd string[] how to start the server
---@field cmd_env table<string,string>? extra environment for the server (e.g. the API key)
---@field root_markers string[] files marking the workspace root (else the cwd)
---@field filetypes string[]? attach only to these filetypes (nil: every file buffer)
---@field autostart boolean attach to file buffers automatically
---@field settings table the `lspAgent` settings section (model, permissions, limits, shell, editor)
---@field init_options table? initializationOptions (default: { lspAgent = settings })
---@field code_action_diagnostics boolean send every diagnostic at the cursor with code action requests
---@field client_config table? more vim.lsp.ClientConfig fields (on_attach, flags, …)
---@field transcript lsp_agent.TranscriptOptions
M.defaults = {
  cmd = { 'lsp-agent', 'serve' },
  cmd_env = nil,
  root_markers = { '.lsp-agent.toml', 'pyproject.toml', '.git' },
  filetypes = nil,
  autostart = true,
  settings = {},
  init_options = nil,
  code_action_diagnostics = true,
  client_config = nil,
  transcript = {
    layout = 'vsplit',
    size = nil,
    float = { width = 0.8, height = 0.8, border = 'rounded' },
    auto_open = true,
    enter = false,
    fold_thoughts = true,
    max_output_lines = 8,
    max_diff_lines = 12,
  },
}

---@type lsp_agent.Options
M.options = vim.deepcopy(M.defaults)
M.configured = false -- setup() was called

local LISTS = { 'cmd', 'root_markers', 'filetypes' } -- replaced, never merged index by index

---@param opts table?
---@return lsp_agent.Options
function M.set(opts)
  opts = opts or {}
  for _, key in ipairs({ 'cmd', 'settings', 'transcript', 'root_markers', 'filetypes', 'client_config' }) do
    if opts[key] ~= nil and type(opts[key]) ~= 'table' then
      error(('lsp_agent.setup: %s must be a table, not %s'):format(key, type(opts[key])), 3)
    end
  end
  local merged = vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), opts)
  for _, key in ipairs(LISTS) do
    if opts[key] ~= nil then
      merged[key] = vim.deepcopy(opts[key])
    end
  end
  M.options = merged
  M.configured = true
  return merged
end

--- The default client capabilities plus `experimental.lspAgent` (a full table: 0.10 does not
--- merge partial capabilities with the defaults).
function M.capabilities()
  return vim.tbl_deep_extend('force', vim.lsp.protocol.make_client_capabilities(), {
    experimental = { lspAgent = vim.deepcopy(protocol.CLIENT_CAPABILITIES) },
  })
end

local function dict(t)
  if t == nil or next(t) == nil then
    return vim.empty_dict()
  end
  return t
end

--- initializationOptions default to the settings, so they apply from the first request on.
function M.before_init(params, config)
  if params.initializationOptions == nil then
    local settings = config.settings and config.settings[protocol.SECTION]
    params.initializationOptions = { [protocol.SECTION] = dict(vim.deepcopy(settings or {})) }
  end
end

local MERGED = { handlers = true, commands = true, capabilities = true } -- extended, not replaced

--- The client configuration (a `vim.lsp.Config` / `vim.lsp.ClientConfig`).
---@param opts lsp_agent.Options?
function M.lsp_config(opts)
  opts = opts or M.options
  local handlers = require('lsp_agent.handlers')
  local cfg = {
    name = protocol.NAME,
    cmd = vim.deepcopy(opts.cmd),
    cmd_env = opts.cmd_env,
    root_markers = vim.deepcopy(opts.root_markers),
    filetypes = opts.filetypes and vim.deepcopy(opts.filetypes) or nil,
    capabilities = M.capabilities(),
    settings = { [protocol.SECTION] = dict(vim.deepcopy(opts.settings or {})) },
    init_options = opts.init_options,
    before_init = M.before_init,
    handlers = handlers.handlers(),
    commands = handlers.commands(),
    on_exit = function(code, signal, client_id)
      vim.schedule(function()
        require('lsp_agent.session').on_exit(client_id, code, signal)
      end)
    end,
  }
  for key, value in pairs(opts.client_config or {}) do
    if MERGED[key] and type(value) == 'table' then
      cfg[key] = vim.tbl_deep_extend('force', cfg[key], value)
    else
      cfg[key] = value
    end
  end
  return cfg
end

return M
