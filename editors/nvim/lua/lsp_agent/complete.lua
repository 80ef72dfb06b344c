-- Completion for prompts (:AgentAsk and the ask input): `/` at the start lists the slash
-- commands (the server's agent/commands), `@` lists @problems, @selection and files to
-- mention, and `@file:` the file's line range (the visual selection's, or the one typed).
local protocol = require('lsp_agent.protocol')
local util = require('lsp_agent.util')

local M = {}

local TIMEOUT_MS = 1000 -- a completion waits on the server this long at most
local FRESH_MS = 5000 -- command files may change: ask again after this long
local cache = {} -- client id -> { at = ms, commands = {...} }

local function commands()
  local client = require('lsp_agent.client').get(vim.api.nvim_get_current_buf())
  if not client then
    return {}
  end
  local hit = cache[client.id]
  if not hit or vim.uv.now() - hit.at > FRESH_MS then
    local reply
    if util.has_011 then
      reply = client:request_sync(protocol.COMMANDS, vim.empty_dict(), TIMEOUT_MS, 0)
    else
      reply = client.request_sync(protocol.COMMANDS, vim.empty_dict(), TIMEOUT_MS, 0)
    end
    local result = reply and reply.result
    hit = { at = vim.uv.now(), commands = type(result) == 'table' and result.commands or {} }
    cache[client.id] = hit
  end
  return hit.commands
end

-- The server reads `@path` bare when it is made of these characters, else quoted.
local function mention(path)
  if path:match('^[%w_./~+-]*[%w_/~+-]$') then
    return '@' .. path
  end
  return (path:find('"', 1, true) or path:find('\n', 1, true)) and nil or ('@"' .. path .. '"')
end

--- `@file:` -> `@file:10-20`: the last visual selection's lines when it is that file's
--- buffer, and the range typed so far when it is one.
local function ranges(path, typed)
  local spelled = mention(path)
  if not spelled then
    return {}
  end
  local out = {}
  local bufnr = vim.fn.bufnr(path)
  if bufnr > 0 then
    local s = require('lsp_agent.mentions').selected(bufnr)
    if s then
      local lines = s.first == s.last and tostring(s.first) or ('%d-%d'):format(s.first, s.last)
      table.insert(out, spelled .. ':' .. lines)
    end
  end
  local whole = typed:match('^[1-9]%d*$') or typed:match('^[1-9]%d*%-[1-9]%d*$')
  if whole and not vim.tbl_contains(out, spelled .. ':' .. typed) then
    table.insert(out, spelled .. ':' .. typed)
  end
  return out
end

local function candidates(word, first)
  local out = {}
  if first and word:sub(1, 1) == '/' then
    local typed = word:sub(2):lower()
    for _, c in ipairs(commands()) do
      if type(c.name) == 'string' and vim.startswith(c.name, typed) then
        table.insert(out, '/' .. c.name)
      end
    end
  elseif word:sub(1, 1) == '@' then
    local path, lines = word:match('^@(.-):([%d-]*)$')
    if path and path ~= '' and vim.fn.filereadable(path) == 1 then
      return ranges(path, lines)
    end
    for _, name in ipairs({ 'problems', 'selection' }) do
      if vim.startswith(name, word:sub(2)) then
        table.insert(out, '@' .. name)
      end
    end
    for _, file in ipairs(vim.fn.getcompletion(word:sub(2), 'file')) do
      table.insert(out, mention(file))
    end
  end
  return out
end

--- A `customlist` completion function. For a command, `arglead` is the word being typed;
--- for input() it is the whole line: either way the candidates keep what comes before.
function M.prompt(arglead, cmdline, cursorpos)
  local before = cmdline:sub(1, cursorpos)
  local word = arglead:match('(%S*)$') or ''
  local keep = arglead:sub(1, #arglead - #word)
  -- a command only as the prompt's first word (after `AgentAsk` on the command line)
  local prompt = before:gsub('^.-AgentAsk!?', '', 1)
  local words = vim.split(vim.trim(prompt), '%s+')
  local first = #words <= 1
  local out = {}
  for _, c in ipairs(candidates(word, first)) do
    table.insert(out, keep .. c)
  end
  return out
end

--- The `completion` value for vim.ui.input.
M.INPUT = "customlist,v:lua.require'lsp_agent.complete'.prompt"

return M
