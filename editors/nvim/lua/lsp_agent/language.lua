-- agent/languageFeature: the agent's language tools (definition, references, hover, symbols,
-- rename, code actions, diagnostics) answered by the OTHER language servers attached in
-- Neovim (like vim.lsp.buf_request_all, without lsp-agent itself), results merged.
-- Rename and code-action edits are only returned: the server applies them after permission.
-- The handler runs in the coroutine Neovim's RPC gives server requests: it yields while the
-- other servers answer, so the editor never blocks.
local protocol = require('lsp_agent.protocol')
local util = require('lsp_agent.util')
local client_mod = require('lsp_agent.client')

local M = {}

M.TIMEOUT_MS = 10000

local FAILED = vim.lsp.protocol.ErrorCodes.RequestFailed or -32803

local function fail(message)
  return nil, vim.lsp.rpc.rpc_response_error(FAILED, 'lsp-agent: ' .. message)
end

local function supports(client, method, bufnr)
  if type(client.supports_method) ~= 'function' then
    return true
  end
  local ok, yes = pcall(client.supports_method, client, method, bufnr and { bufnr = bufnr } or nil)
  if not ok then
    ok, yes = pcall(client.supports_method, client, method)
  end
  return ok and yes
end

--- The other clients that answer `method`: those attached to the file's buffer if it is
--- loaded, else every running one (servers read files that are not open from disk).
function M.others(method, uri)
  local bufnr = uri and util.buf_for_uri(uri) or nil
  local clients = bufnr and vim.lsp.get_clients({ bufnr = bufnr }) or vim.lsp.get_clients()
  local found = {}
  for _, c in ipairs(clients) do
    if c.name ~= protocol.NAME and not (c.is_stopped and c:is_stopped()) and supports(c, method, bufnr) then
      table.insert(found, c)
    end
  end
  return found, bufnr
end

--- Send to every client; the answers ({ err, result, client }) once all came or time ran out.
local function request_all(clients, method, params, bufnr)
  local answers, pending = {}, #clients
  if pending == 0 then
    return answers
  end
  local co, main = coroutine.running()
  local waiting, finished = false, false
  local function finish()
    if finished then
      return
    end
    finished = true
    if waiting then
      coroutine.resume(co)
    end
  end
  for _, c in ipairs(clients) do
    client_mod.request(c, method, params, function(err, result)
      table.insert(answers, { err = err, result = result, client = c })
      pending = pending - 1
      if pending == 0 then
        finish()
      end
    end, bufnr)
  end
  if co and not main then
    local timer = vim.defer_fn(finish, M.TIMEOUT_MS)
    if not finished then
      waiting = true
      coroutine.yield()
    end
    if not timer:is_closing() then
      timer:stop()
      timer:close()
    end
  else
    vim.wait(M.TIMEOUT_MS, function()
      return pending == 0
    end, 10)
  end
  return answers
end

local function is_list(v)
  return type(v) == 'table' and (vim.islist or vim.tbl_islist)(v)
end

local function concat(results)
  local out = {}
  for _, r in ipairs(results) do
    if is_list(r) then
      vim.list_extend(out, r)
    elseif type(r) == 'table' then
      table.insert(out, r)
    end
  end
  return out
end

local function hover_text(contents)
  if type(contents) == 'string' then
    return contents
  end
  if is_list(contents) then
    local parts = {}
    for _, c in ipairs(contents) do
      table.insert(parts, hover_text(c))
    end
    return table.concat(parts, '\n\n')
  end
  if type(contents) == 'table' and type(contents.value) == 'string' then
    return contents.value
  end
  return ''
end

local function is_ours(action)
  local command = type(action.command) == 'table' and action.command.command or action.command
  return type(command) == 'string' and vim.startswith(command, 'lspAgent.')
end

local MERGE = {
  ['textDocument/definition'] = concat,
  ['textDocument/references'] = concat,
  ['textDocument/documentSymbol'] = concat,
  ['workspace/symbol'] = concat,
  ['textDocument/hover'] = function(results)
    local parts = {}
    for _, r in ipairs(results) do
      local text = type(r) == 'table' and hover_text(r.contents) or ''
      if vim.trim(text) ~= '' then
        table.insert(parts, text)
      end
    end
    if #parts == 0 then
      return vim.NIL
    end
    return { contents = { kind = 'markdown', value = table.concat(parts, '\n\n---\n\n') } }
  end,
  ['textDocument/rename'] = function(results) -- one server's edit: several would repeat it
    for _, r in ipairs(results) do
      if type(r) == 'table' then
        return r
      end
    end
    return vim.NIL
  end,
  ['textDocument/codeAction'] = function(results)
    return vim.tbl_filter(function(a)
      return not is_ours(a)
    end, concat(results))
  end,
}

local function diagnostics_of(bufnr)
  return bufnr and require('lsp_agent.diagnostics').for_buffer(bufnr, 'utf-16') or {}
end

--- The handler of agent/languageFeature.
function M.handle(_, request, _)
  if type(request) ~= 'table' or type(request.method) ~= 'string' then
    return fail('agent/languageFeature needs { method, params }')
  end
  local method, params = request.method, type(request.params) == 'table' and request.params or {}
  local uri = type(params.textDocument) == 'table' and params.textDocument.uri or nil
  if method == 'codeAction/resolve' then -- whichever server made the action resolves it
    for _, answer in ipairs(request_all(M.others(method, nil), method, params, nil)) do
      if not answer.err and type(answer.result) == 'table' and answer.result.edit then
        return answer.result
      end
    end
    return params
  end
  if method == 'textDocument/diagnostic' then
    return { kind = 'full', items = diagnostics_of(uri and util.buf_for_uri(uri)) }
  end
  if method == 'workspace/diagnostic' then
    local items = require('lsp_agent.handlers').get_diagnostics(nil, {}, { client_id = -1 }).items
    for _, item in ipairs(items) do
      item.kind, item.items, item.diagnostics, item.version = 'full', item.diagnostics, nil, vim.NIL
    end
    return { items = items }
  end
  local merge = MERGE[method]
  if not merge then
    return fail('cannot answer ' .. method)
  end
  local clients, bufnr = M.others(method, uri)
  if #clients == 0 then
    return fail(('no language server in Neovim answers %s%s'):format(method, uri and (' for ' .. util.display_uri(uri)) or ''))
  end
  local results, errors = {}, {}
  for _, answer in ipairs(request_all(clients, method, params, bufnr)) do
    if answer.err then
      table.insert(errors, ('%s: %s'):format(answer.client.name, answer.err.message or vim.inspect(answer.err)))
    elseif answer.result ~= nil and answer.result ~= vim.NIL then
      table.insert(results, answer.result)
    end
  end
  if #results == 0 and #errors > 0 then
    return fail(table.concat(errors, '; '))
  end
  return merge(results)
end

return M
