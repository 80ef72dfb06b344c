-- The client side of the agent protocol: server->client requests and notifications.
local api = vim.api
local diagnostics = require('lsp_agent.diagnostics')
local protocol = require('lsp_agent.protocol')
local util = require('lsp_agent.util')

local M = {}

-- How each permission option is offered (the server's `name` is the fallback).
local OPTION_LABELS = {
  allow_once = 'Allow once',
  allow_always = 'Always allow',
  reject_once = 'Reject',
  reject_always = 'Always reject',
}
local SHOW_DIFF = { optionId = '__show_diff', name = 'Show diff' }
local SHOW_COMMAND = { optionId = '__show_command', name = 'Show command' }
local INLINE_LIMIT = 300 -- longer (or multi-line) commands also offer Show command

function M.option_label(option)
  -- "Always allow bash(npm test:*)": the user sees what is remembered before choosing it
  if option.kind == 'allow_always' and type(option.name) == 'string'
    and vim.startswith(option.name, 'Always allow ') then
    return option.name
  end
  return OPTION_LABELS[option.kind] or option.name or option.optionId
end

--- The server's description of the request (the whole command, why it is asked), if any.
local function description_of(tool_call)
  for _, item in ipairs(type(tool_call.content) == 'table' and tool_call.content or {}) do
    if item.type == 'content' and type(item.content) == 'table' and type(item.content.text) == 'string' then
      return item.content.text
    end
  end
end

local function show_text(text)
  local buf = api.nvim_create_buf(false, true)
  api.nvim_buf_set_lines(buf, 0, -1, false, vim.split(text, '\n', { plain = true }))
  vim.bo[buf].filetype = 'sh'
  vim.bo[buf].modifiable = false
  vim.cmd('botright split')
  api.nvim_win_set_buf(0, buf)
  vim.keymap.set('n', 'q', '<cmd>close<cr>', { buffer = buf, nowait = true })
end

--- vim.ui.select from a server request handler, waiting for the answer. Neovim runs server
--- requests in a coroutine (0.11+): yield there, so the editor stays responsive; else wait.
local function select(items, opts)
  local co, is_main = coroutine.running()
  if co and not is_main then
    local ok, err = pcall(vim.ui.select, items, opts, function(choice)
      vim.schedule(function()
        local resumed, err = coroutine.resume(co, choice)
        if not resumed then
          util.notify('answering the server failed: ' .. tostring(err), vim.log.levels.ERROR)
        end
      end)
    end)
    if not ok then
      util.notify('vim.ui.select failed: ' .. tostring(err), vim.log.levels.ERROR)
      return nil
    end
    return coroutine.yield()
  end
  local done, answer = false, nil
  local ok, err = pcall(vim.ui.select, items, opts, function(choice)
    done, answer = true, choice
  end)
  if not ok then
    util.notify('vim.ui.select failed: ' .. tostring(err), vim.log.levels.ERROR)
    return nil
  end
  vim.wait(24 * 3600 * 1000, function()
    return done
  end)
  return answer
end

local function diff_of(tool_call)
  for _, item in ipairs(type(tool_call.content) == 'table' and tool_call.content or {}) do
    if item.type == 'diff' then
      return item
    end
  end
end

local function show_diff(item)
  local old = item.oldText ~= vim.NIL and item.oldText or ''
  local diff = (vim.text and vim.text.diff or vim.diff)(old, item.newText or '', { ctxlen = 3 })
  local path = vim.fn.fnamemodify(item.path or '', ':~:.')
  local lines = { '--- ' .. path, '+++ ' .. path }
  vim.list_extend(lines, vim.split(diff --[[@as string]], '\n', { plain = true, trimempty = true }))
  local buf = api.nvim_create_buf(false, true)
  api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].filetype = 'diff'
  vim.bo[buf].modifiable = false
  vim.cmd('botright split')
  api.nvim_win_set_buf(0, buf)
  vim.keymap.set('n', 'q', '<cmd>close<cr>', { buffer = buf, nowait = true })
end

--- agent/session/request_permission: Allow once / Always allow / Reject (and Show diff,
--- Show command). The prompt is the server's description: every line of the command.
function M.request_permission(_, params)
  local tool_call = params.toolCall or {}
  local items = vim.deepcopy(params.options or {})
  local diff = diff_of(tool_call)
  if diff then
    table.insert(items, SHOW_DIFF)
  end
  local text = description_of(tool_call)
  if text and tool_call.kind == 'execute' and (text:find('\n') or #text > INLINE_LIMIT) then
    table.insert(items, SHOW_COMMAND)
  end
  local opts = {
    prompt = text and (text .. '\n')
      or ('lsp-agent wants to %s (%s):'):format(tool_call.title or '?', tool_call.kind or 'other'),
    kind = 'lsp_agent_permission',
    format_item = M.option_label,
  }
  local choice
  repeat
    choice = select(items, opts)
    if choice == SHOW_DIFF then
      show_diff(diff)
    elseif choice == SHOW_COMMAND then
      show_text(text)
    end
  until choice ~= SHOW_DIFF and choice ~= SHOW_COMMAND
  require('lsp_agent.session').permission_answered(params, choice)
  if not choice then
    return { outcome = { outcome = 'cancelled' } }
  end
  return { outcome = { outcome = 'selected', optionId = choice.optionId } }
end

local function encoding(ctx)
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  return client and client.offset_encoding or 'utf-16'
end

--- agent/getDiagnostics: what every language server reports, per file.
function M.get_diagnostics(_, params, ctx)
  local enc = encoding(ctx)
  local items = {}
  local uris = type(params) == 'table' and params.uris or nil
  if type(uris) == 'table' then
    for _, uri in ipairs(uris) do
      local bufnr = util.buf_for_uri(uri)
      table.insert(items, {
        uri = uri,
        diagnostics = bufnr and diagnostics.for_buffer(bufnr, enc) or {},
      })
    end
  else
    local seen = {}
    for _, d in ipairs(vim.diagnostic.get()) do
      if not seen[d.bufnr] and util.is_file_buffer(d.bufnr) then
        seen[d.bufnr] = true
        table.insert(items, {
          uri = vim.uri_from_bufnr(d.bufnr),
          diagnostics = diagnostics.for_buffer(d.bufnr, enc),
        })
      end
    end
  end
  return { items = items }
end

--- agent/saveDocuments: write the buffers the agent edited, before a shell command runs.
function M.save_documents(_, params)
  local saved = {}
  for _, uri in ipairs(type(params) == 'table' and params.uris or {}) do
    local bufnr = util.buf_for_uri(uri)
    if bufnr then
      if vim.bo[bufnr].modified then
        pcall(api.nvim_buf_call, bufnr, function()
          vim.cmd('silent keepalt write')
        end)
      end
      if not vim.bo[bufnr].modified then
        table.insert(saved, uri)
      end
    end
  end
  return { saved = saved }
end

--- workspace/applyEdit: refuse an edit made for an older version of a buffer (Neovim's own
--- handler only prints "newer than edits" and answers applied: true), else apply it with the
--- built-in handler.
function M.apply_edit(err, params, ctx)
  local changes = type(params) == 'table' and type(params.edit) == 'table' and params.edit.documentChanges
  for _, change in ipairs(type(changes) == 'table' and changes or {}) do
    local doc = change.textDocument
    if type(doc) == 'table' and type(doc.version) == 'number' then
      local bufnr = util.buf_for_uri(doc.uri)
      if bufnr and util.version(bufnr) ~= doc.version then
        return {
          applied = false,
          failureReason = ('%s changed in the editor (version %d, the edit is for version %d)'):format(
            util.display_uri(doc.uri),
            util.version(bufnr),
            doc.version
          ),
        }
      end
    end
  end
  return vim.lsp.handlers[protocol.APPLY_EDIT](err, params, ctx)
end

function M.session_update(_, params, ctx)
  require('lsp_agent.session').on_update(ctx.client_id, params)
end

function M.handlers()
  return {
    [protocol.SESSION_UPDATE] = M.session_update,
    [protocol.REQUEST_PERMISSION] = M.request_permission,
    [protocol.GET_DIAGNOSTICS] = M.get_diagnostics,
    [protocol.SAVE_DOCUMENTS] = M.save_documents,
    [protocol.LANGUAGE_FEATURE] = function(err, params, ctx)
      return require('lsp_agent.language').handle(err, params, ctx)
    end,
    [protocol.APPLY_EDIT] = M.apply_edit,
    [protocol.REVIEW] = function(err, params, ctx)
      return require('lsp_agent.review').handle(err, params, ctx)
    end,
  }
end

--- Client-side handlers for the code actions' commands: they run as prompts the plugin
--- follows (transcript, end of run, cancel) instead of fire-and-forget server commands.
function M.commands()
  return {
    [protocol.CMD_FIX] = function(command, ctx)
      require('lsp_agent').fix_command(command, ctx)
    end,
    [protocol.CMD_ASK] = function(command, ctx)
      require('lsp_agent').ask_command(command, ctx)
    end,
  }
end

return M
