-- The lsp-agent LSP client: finding or starting it, calling it on 0.10 and 0.11+, and giving
-- code action requests the diagnostics of every language server.
local api = vim.api
local config = require('lsp_agent.config')
local diagnostics = require('lsp_agent.diagnostics')
local protocol = require('lsp_agent.protocol')
local util = require('lsp_agent.util')

local M = {}

-- 0.11 made these methods (client:request); 0.10 has dot-call functions (client.request).
function M.request(client, method, params, handler, bufnr)
  if util.has_011 then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

function M.notify(client, method, params)
  if util.has_011 then
    return client:notify(method, params)
  end
  return client.notify(method, params)
end

function M.is_stopped(client)
  if util.has_011 then
    return client:is_stopped()
  end
  return client.is_stopped()
end

--- A running lsp-agent client: the one attached to `bufnr` first, else any.
---@return vim.lsp.Client?
function M.get(bufnr)
  local attached = bufnr and vim.lsp.get_clients({ name = protocol.NAME, bufnr = bufnr })[1]
  return attached or vim.lsp.get_clients({ name = protocol.NAME })[1]
end

function M.root(bufnr, markers)
  local ok, root = pcall(vim.fs.root, bufnr, markers or {})
  return ok and root or vim.fn.getcwd()
end

--- The configuration to start a client with: setup()'s, else (0.11+) vim.lsp.config's.
function M.config()
  if not config.configured and util.has_011 then
    local ok, resolved = pcall(function()
      return vim.lsp.config[protocol.NAME]
    end)
    if ok and type(resolved) == 'table' and resolved.cmd then
      local cfg = vim.deepcopy(resolved)
      cfg.name = protocol.NAME
      return cfg
    end
  end
  return config.lsp_config()
end

local function resolve_root(cfg, bufnr)
  if type(cfg.root_dir) == 'string' then
    return cfg.root_dir
  end
  if type(cfg.root_dir) == 'function' then
    local found
    pcall(cfg.root_dir, bufnr, function(dir)
      found = dir
    end)
    if found then
      return found
    end
  end
  return M.root(bufnr, cfg.root_markers)
end

--- Start (or reuse) a client for a buffer; a non-file buffer gets one rooted at the cwd.
---@return integer? client_id
function M.start(bufnr)
  local cfg = M.config()
  if util.is_file_buffer(bufnr) then
    cfg.root_dir = resolve_root(cfg, bufnr)
    return vim.lsp.start(cfg, { bufnr = bufnr })
  end
  if not util.has_011 then
    util.notify(
      'open a file first: Neovim 0.10 starts language servers for file buffers only',
      vim.log.levels.WARN
    )
    return nil
  end
  cfg.root_dir = cfg.root_dir or vim.fn.getcwd()
  if type(cfg.root_dir) == 'function' then
    cfg.root_dir = vim.fn.getcwd()
  end
  return vim.lsp.start(cfg, { attach = false })
end

local READY_TIMEOUT_MS = 30000

--- Call fn(client) once the client is initialized (started on demand).
function M.with_client(bufnr, fn)
  local client = M.get(bufnr)
  if not client then
    if vim.fn.executable((M.config().cmd or {})[1] or '') == 0 then
      util.notify(
        ('the server `%s` was not found: pip install lsp-agent, or set cmd in setup()'):format(
          table.concat(M.config().cmd or {}, ' ')
        ),
        vim.log.levels.ERROR
      )
      return
    end
    local id = M.start(bufnr)
    client = id and vim.lsp.get_client_by_id(id)
  end
  if not client then
    util.notify('could not start the server (see :checkhealth lsp_agent)', vim.log.levels.ERROR)
    return
  end
  if client.initialized then
    return fn(client)
  end
  local timer = assert(vim.uv.new_timer())
  local start = vim.uv.now()
  timer:start(20, 20, vim.schedule_wrap(function()
    if timer:is_closing() then
      return
    end
    if client.initialized then
      timer:close()
      fn(client)
    elseif M.is_stopped(client) or vim.uv.now() - start > READY_TIMEOUT_MS then
      timer:close()
      util.notify('the server did not start (see :checkhealth lsp_agent)', vim.log.levels.ERROR)
    end
  end))
end

--- Neovim sends a code action request only the diagnostics of the server's own namespace,
--- and lsp-agent publishes none: add every diagnostic on the requested lines, so "Ask agent
--- to fix: …" appears for what the other language servers report.
local function with_diagnostics(client, params)
  local context = params and params.context
  if type(context) ~= 'table' or (context.diagnostics and #context.diagnostics > 0) then
    return params
  end
  if context.only and not vim.list_contains(context.only, 'quickfix') then
    return params
  end
  local bufnr = util.buf_for_uri(params.textDocument.uri)
  if not bufnr then
    return params
  end
  local range = params.range
  params = vim.deepcopy(params)
  params.context.diagnostics =
    diagnostics.for_buffer(bufnr, client.offset_encoding, range.start.line, range['end'].line)
  return params
end

function M.patch(client)
  if client._lsp_agent_patched or not config.options.code_action_diagnostics then
    return
  end
  client._lsp_agent_patched = true
  local request = client.request
  client.request = function(...)
    local n = select('#', ...)
    local args = { ... }
    local i = args[1] == client and 2 or 1 -- client:request(...) or client.request(...)
    if args[i] == protocol.CODE_ACTION then
      local ok, patched = pcall(with_diagnostics, client, args[i + 1])
      if ok then
        args[i + 1] = patched
      end
    end
    return request(unpack(args, 1, n))
  end
end

return M
