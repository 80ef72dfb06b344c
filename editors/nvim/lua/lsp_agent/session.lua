-- Sessions as the plugin knows them: which one is current, which runs are going, and the
-- agent/session/* requests behind the commands.
local client_mod = require('lsp_agent.client')
local config = require('lsp_agent.config')
local protocol = require('lsp_agent.protocol')
local transcript = require('lsp_agent.transcript')
local util = require('lsp_agent.util')

local M = {}

---@class lsp_agent.Session
---@field id string
---@field client_id integer
---@field title string?
---@field running boolean
---@field request_id integer? the pending agent/session/prompt
---@field last_seq integer?
---@field last_result table? the last run's PromptResult
---@field tx table? transcript state

---@type table<string, lsp_agent.Session>
M.sessions = {}
---@type table<integer, string> client id -> current session id
M.current = {}

---@return lsp_agent.Session
function M.get(id, client_id)
  local s = M.sessions[id]
  if not s then
    s = { id = id, client_id = client_id, running = false }
    M.sessions[id] = s
  end
  s.client_id = client_id or s.client_id
  return s
end

--- The session a command is about: the transcript under the cursor's, else the client's
--- current one.
---@return lsp_agent.Session?
function M.current_for(client_id)
  local here = vim.b.lsp_agent_session
  if here and M.sessions[here] then
    return M.sessions[here]
  end
  local id = client_id and M.current[client_id]
  return id and M.sessions[id] or nil
end

function M.set_current(s)
  M.current[s.client_id] = s.id
end

--- agent/session/update
function M.on_update(client_id, params)
  if type(params) ~= 'table' or type(params.sessionId) ~= 'string' then
    return
  end
  local s = M.get(params.sessionId, client_id)
  local fresh = s.tx == nil
  if type(params.seq) == 'number' then
    if s.last_seq and params.seq > s.last_seq + 1 then
      transcript.note(s, ('(%d updates were lost)'):format(params.seq - s.last_seq - 1))
    end
    s.last_seq = params.seq
  end
  transcript.update(s, params.update or {})
  if fresh and config.options.transcript.auto_open then
    transcript.open(s) -- a run this editor did not start (e.g. another client's command)
  end
end

function M.permission_answered(params, choice)
  local s = M.sessions[params.sessionId]
  if not s then
    return
  end
  local tool = params.toolCall or {}
  local answer = choice and require('lsp_agent.handlers').option_label(choice) or 'no answer'
  transcript.permission(s, tool.toolCallId, answer)
end

--- The mode, model and review mode a session's prompts run with, as the server says them.
function M.remember(s, result)
  if type(result) == 'table' and type(result.mode) == 'string' and type(result.model) == 'string' then
    s.mode, s.model = result.mode, result.model
  end
  if type(result) == 'table' and type(result.review) == 'string' then
    s.review = result.review
  end
end

--- agent/session/config: read (change = {}) or switch the mode and/or model.
function M.config(client, s, change, callback)
  local params = vim.tbl_extend('force', { sessionId = s.id }, change or {})
  client_mod.request(client, protocol.SESSION_CONFIG, params, function(err, result)
    if err then
      util.notify('could not change the session: ' .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
      return
    end
    M.remember(s, result)
    vim.cmd('redrawstatus')
    if callback then
      callback(result)
    end
  end)
end

--- agent/session/new
function M.new(client, title, callback)
  client_mod.request(client, protocol.SESSION_NEW, { title = title }, function(err, result)
    if err then
      util.notify('could not start a session: ' .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
      return
    end
    local s = M.get(result.sessionId, client.id)
    s.title = title
    M.remember(s, result)
    M.set_current(s)
    callback(s)
  end)
end

--- agent/session/prompt: the transcript follows the run; the result ends it.
---@param extra {prompt: string|table?, inline_edit: table?}? what goes out instead of `text` (content blocks), an inline edit's range
function M.prompt(client, s, text, context, bufnr, extra)
  extra = extra or {}
  M.set_current(s)
  transcript.ensure(s)
  if config.options.transcript.auto_open then
    transcript.open(s)
  end
  s.running = true
  transcript.set_status(s, 'running')
  local params = { sessionId = s.id, prompt = extra.prompt or text, context = context, inlineEdit = extra.inline_edit }
  local ok, id = client_mod.request(client, protocol.SESSION_PROMPT, params, function(err, result)
    s.running, s.request_id = false, nil
    s.last_result = result
    transcript.finish(s, result, err)
    if err then
      util.notify(err.message or vim.inspect(err), vim.log.levels.ERROR)
    elseif type(result.error) == 'string' and result.error ~= '' then
      util.notify(result.error, vim.log.levels.ERROR)
    end
    vim.api.nvim_exec_autocmds('User', {
      pattern = 'LspAgentRunEnd',
      modeline = false,
      data = { session = s.id, result = result, error = err },
    })
  end, bufnr)
  if not ok then
    s.running = false
    transcript.finish(s, nil, { message = 'the server is not running' })
    return
  end
  s.request_id = id
end

--- Ask in the current session (or a new one).
function M.run(client, text, context, opts)
  opts = opts or {}
  local s = not opts.new and M.current_for(client.id) or nil
  if s and s.client_id ~= client.id then
    s = nil
  end
  if s and s.running then
    util.notify(
      'the agent is still working in this session: :AgentCancel it, or :AgentAsk! for a new one',
      vim.log.levels.WARN
    )
    return
  end
  local extra = { prompt = opts.prompt, inline_edit = opts.inline_edit }
  if s then
    return M.prompt(client, s, text, context, opts.bufnr, extra)
  end
  M.new(client, opts.title or util.first_line(text), function(new)
    M.prompt(client, new, text, context, opts.bufnr, extra)
  end)
end

--- agent/session/cancel: the pending prompt then resolves with stopReason "cancelled".
function M.cancel(client, s)
  if not s.running then
    return false
  end
  client_mod.notify(client, protocol.SESSION_CANCEL, { sessionId = s.id })
  transcript.set_status(s, 'cancelling…')
  return true
end

--- agent/session/list
function M.list(client, callback)
  client_mod.request(client, protocol.SESSION_LIST, vim.empty_dict(), function(err, result)
    if err then
      util.notify('could not list sessions: ' .. (err.message or ''), vim.log.levels.ERROR)
      return
    end
    callback(result.sessions or {})
  end)
end

--- agent/session/load: the history arrives as updates into a fresh transcript.
function M.load(client, summary, callback)
  local s = M.get(summary.sessionId, client.id)
  if s.running then
    transcript.open(s, true)
    return callback and callback(s)
  end
  s.title = summary.title ~= '' and summary.title or s.title
  transcript.reset(s)
  transcript.set_status(s, 'loading…')
  transcript.open(s)
  M.set_current(s)
  client_mod.request(client, protocol.SESSION_LOAD, { sessionId = s.id }, function(err, result)
    if err then
      transcript.set_status(s, 'error')
      util.notify('could not load the session: ' .. (err.message or ''), vim.log.levels.ERROR)
      return
    end
    M.remember(s, result)
    transcript.set_status(s, ('loaded (%d updates)'):format(result.updates or 0))
    if callback then
      callback(s)
    end
  end)
end

--- agent/session/undo
function M.undo(client, s, turns, force, callback)
  local params = { sessionId = s.id, turns = turns or 1, force = force or false }
  client_mod.request(client, protocol.SESSION_UNDO, params, function(err, result)
    if err then
      util.notify('undo failed: ' .. (err.message or ''), vim.log.levels.ERROR)
      return callback and callback(nil, err)
    end
    local reverted = vim.tbl_map(util.display_uri, result.revertedUris or {})
    local conflicts = vim.tbl_map(util.display_uri, result.conflicts or {})
    local message
    if #conflicts > 0 and #reverted == 0 then
      message = ('undo refused: changed since the agent edited them: %s (:AgentUndo! undoes anyway)'):format(
        table.concat(conflicts, ', ')
      )
      util.notify(message, vim.log.levels.WARN)
    elseif #reverted > 0 then
      message = 'undone: ' .. table.concat(reverted, ', ')
      util.notify(message)
    else
      message = 'nothing to undo'
      util.notify(message)
    end
    transcript.note(s, '↶ ' .. message)
    if callback then
      callback(result)
    end
  end)
end

--- The server exited: its runs are over.
function M.on_exit(client_id, code, signal)
  for _, s in pairs(M.sessions) do
    if s.client_id == client_id and s.running then
      s.running, s.request_id = false, nil
      transcript.finish(s, nil, { message = ('the server exited (code %s, signal %s)'):format(code, signal) })
    end
  end
  M.current[client_id] = nil
end

return M
