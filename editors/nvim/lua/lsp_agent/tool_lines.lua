-- A tool call's lines in the transcript: its head (status, kind, title) and a bounded body
-- (the tail of its output, or a short diff). Its output is kept as lines as it streams, so
-- each redraw costs what is shown, not all the output.
local config = require('lsp_agent.config')

local M = {}

local OUTPUT = '    │ '
local ICON = { pending = '○', in_progress = '◐', completed = '✓', failed = '✗' }
local QUIET_KINDS = { read = true, search = true, think = true } -- their output is not shown

local function opts()
  return config.options.transcript
end

--- Append streamed output to a tool's lines (the last one may still grow): O(text).
function M.add_output(tool, text)
  local pieces = vim.split(text, '\n', { plain = true })
  local lines = tool.lines
  lines[#lines] = lines[#lines] .. pieces[1]
  for i = 2, #pieces do
    lines[#lines + 1] = pieces[i]
  end
end

--- The last `max` lines of a tool's output (trailing blank lines dropped) and their count:
--- O(max), however long the output.
local function tail(lines, max)
  local n = #lines
  while n > 0 and lines[n] == '' do
    n = n - 1
  end
  local out = {}
  if n > max then
    table.insert(out, ('… %d earlier lines'):format(n - max))
  end
  for i = math.max(1, n - max + 1), n do
    table.insert(out, lines[i])
  end
  return out, n
end

local function diff_lines(item, max)
  local old = item.oldText ~= vim.NIL and item.oldText or ''
  local diff = (vim.text and vim.text.diff or vim.diff)(old, item.newText or '', { ctxlen = 1 })
  local lines = vim.split(diff --[[@as string]], '\n', { plain = true, trimempty = true })
  local path = vim.fn.fnamemodify(item.path or '', ':~:.')
  local out = { { text = (item.oldText == vim.NIL and 'new file ' or 'diff ') .. path } }
  for i = 1, math.min(#lines, max) do
    local l = lines[i]
    local sign = l:sub(1, 1)
    local group = sign == '+' and 'LspAgentDiffAdd' or sign == '-' and 'LspAgentDiffDelete' or nil
    table.insert(out, { text = l, group = group })
  end
  if #lines > max then
    table.insert(out, { text = ('… %d more lines'):format(#lines - max) })
  end
  return out
end

M.NESTED = '    ' -- a sub-agent's lines, under its `task` call

function M.head(tool)
  local head = ('  %s%s %s · %s · %s'):format(
    tool.parent and M.NESTED or '',
    ICON[tool.status] or '?',
    tool.kind,
    tool.title,
    tool.status
  )
  if tool.permission then
    head = head .. ' (' .. tool.permission .. ')'
  end
  return head
end

function M.body(tool)
  local body = {}
  local OUTPUT = tool.parent and M.NESTED .. OUTPUT or OUTPUT
  if #tool.lines > 1 or tool.lines[1] ~= '' then
    if tool.kind == 'think' and tool.status ~= 'failed' then
      -- the plan shows itself
    elseif QUIET_KINDS[tool.kind] and tool.status ~= 'failed' then
      local _, n = tail(tool.lines, 0)
      local count = ('(%d line%s)'):format(n, n == 1 and '' or 's')
      table.insert(body, { text = OUTPUT .. count, group = 'LspAgentOutput' })
    else
      for _, l in ipairs((tail(tool.lines, opts().max_output_lines))) do
        table.insert(body, { text = OUTPUT .. l, group = 'LspAgentOutput' })
      end
    end
  end
  for _, item in ipairs(tool.diffs) do
    for _, l in ipairs(diff_lines(item, opts().max_diff_lines)) do
      table.insert(body, { text = OUTPUT .. l.text, group = l.group or 'LspAgentOutput' })
    end
  end
  return body
end

return M
