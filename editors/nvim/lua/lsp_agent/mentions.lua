-- @problems and @selection in a prompt: what only the editor knows, sent with the prompt as
-- embedded resources (the server's lsp_agent/server/prompt_content.py reads them), and the
-- selected lines as an inline edit's range (:'<,'>AgentEdit).
local api = vim.api
local diagnostics = require('lsp_agent.diagnostics')
local protocol = require('lsp_agent.protocol')
local util = require('lsp_agent.util')

local M = {}

local MAX_PROBLEMS = 500 -- the server lists 200; a few more let it say how many there were

local function mentioned(text, name)
  -- after a space or at the start (not an e-mail address), before a space or punctuation
  local padded = ' ' .. text .. ' '
  return padded:find('%s@' .. name .. '[%s%.,;:!?)]') ~= nil
end

--- The lines a range covers, else those of the last visual selection in the buffer.
---@param range {[1]: integer, [2]: integer}? 1-based lines
---@return {uri: string, first: integer, last: integer, text: string}?
function M.selected(bufnr, range)
  if not util.is_file_buffer(bufnr) then
    return nil
  end
  local first, last
  if range then
    first, last = range[1], range[2]
  else
    first, last = api.nvim_buf_get_mark(bufnr, '<')[1], api.nvim_buf_get_mark(bufnr, '>')[1]
    if first == 0 or last == 0 then
      return nil -- no visual selection in this buffer yet
    end
  end
  local count = api.nvim_buf_line_count(bufnr)
  first, last = math.max(1, math.min(first, last)), math.min(count, math.max(first, last))
  local lines = api.nvim_buf_get_lines(bufnr, first - 1, last, false)
  return { uri = vim.uri_from_bufnr(bufnr), first = first, last = last, text = table.concat(lines, '\n') }
end

--- Every file buffer's diagnostics (all namespaces), as the @problems resource carries them.
function M.problems(encoding)
  local by_buf, order = {}, {}
  for _, d in ipairs(vim.diagnostic.get(nil)) do
    if util.is_file_buffer(d.bufnr) then
      if not by_buf[d.bufnr] then
        by_buf[d.bufnr] = {}
        table.insert(order, d.bufnr)
      end
      table.insert(by_buf[d.bufnr], d)
    end
  end
  table.sort(order)
  local out, count = {}, 0
  for _, bufnr in ipairs(order) do
    if count >= MAX_PROBLEMS then
      break
    end
    local kept = vim.list_slice(by_buf[bufnr], 1, MAX_PROBLEMS - count)
    count = count + #kept
    table.insert(out, { uri = vim.uri_from_bufnr(bufnr), diagnostics = diagnostics.list_to_lsp(kept, encoding) })
  end
  return out
end

--- The prompt with @problems and @selection attached: a string, or content blocks; and notes
--- on what could not be attached.
---@return string|table prompt, string[] notes, boolean selection (attached as @selection)
function M.prompt(text, bufnr, range, encoding)
  local blocks, notes, selection = {}, {}, false
  if mentioned(text, 'problems') then
    local problems = M.problems(encoding)
    local json = #problems > 0 and vim.json.encode(problems) or '[]'
    table.insert(blocks, {
      type = 'resource',
      resource = { uri = protocol.PROBLEMS_URI, mimeType = 'application/json', text = json },
    })
  end
  if mentioned(text, 'selection') then
    local s = M.selected(bufnr, range)
    if s then
      table.insert(blocks, {
        type = 'resource',
        resource = { uri = ('%s#L%d-%d'):format(s.uri, s.first, s.last), text = s.text },
      })
      selection = true
    else
      table.insert(notes, '@selection: no lines are selected in this buffer, so none are attached')
    end
  end
  if #blocks == 0 then
    return text, notes, selection
  end
  return { { type = 'text', text = text }, unpack(blocks) }, notes, selection
end

--- An inline edit's range: whole lines first..last (1-based) of a buffer.
function M.inline_edit(bufnr, first, last, encoding)
  local last_line = util.line(bufnr, last - 1)
  return {
    uri = vim.uri_from_bufnr(bufnr),
    range = {
      start = { line = first - 1, character = 0 },
      ['end'] = { line = last - 1, character = util.units(last_line, #last_line, encoding) },
    },
  }
end

return M
