-- Completion for prompts (:AgentAsk and the ask input): `/` at the start lists the slash
-- commands (the server's agent/commands), `@` lists files to mention.
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
    for _, path in ipairs(vim.fn.getcompletion(word:sub(2), 'file')) do
      table.insert(out, mention(path))
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
