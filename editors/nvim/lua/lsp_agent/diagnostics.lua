-- vim.diagnostic items -> LSP Diagnostic tables (0-based, in the client's position encoding).
local util = require('lsp_agent.util')

local M = {}

---@param d vim.Diagnostic
---@param encoding string 'utf-8'|'utf-16'|'utf-32'
---@return table lsp.Diagnostic
function M.to_lsp(d, encoding)
  local original = d.user_data and d.user_data.lsp
  if type(original) == 'table' and type(original.range) == 'table' then
    return original -- what its language server reported
  end
  local bufnr = d.bufnr
  local end_lnum = d.end_lnum or d.lnum
  local out = {
    range = {
      start = { line = d.lnum, character = util.units(util.line(bufnr, d.lnum), d.col, encoding) },
      ['end'] = {
        line = end_lnum,
        character = util.units(util.line(bufnr, end_lnum), d.end_col or d.col, encoding),
      },
    },
    message = d.message or '',
    severity = d.severity,
  }
  if type(d.source) == 'string' then
    out.source = d.source
  end
  if type(d.code) == 'string' or type(d.code) == 'number' then
    out.code = d.code
  end
  return out
end

---@param list vim.Diagnostic[]
function M.list_to_lsp(list, encoding)
  return vim.tbl_map(function(d)
    return M.to_lsp(d, encoding)
  end, list)
end

--- Every diagnostic of a buffer (all namespaces), optionally only on lines [first, last].
function M.for_buffer(bufnr, encoding, first, last)
  local out = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    local d_end = d.end_lnum or d.lnum
    if first == nil or (d_end >= first and d.lnum <= last) then
      table.insert(out, d)
    end
  end
  table.sort(out, function(a, b)
    if a.lnum ~= b.lnum then
      return a.lnum < b.lnum
    end
    return (a.col or 0) < (b.col or 0)
  end)
  return M.list_to_lsp(out, encoding)
end

--- The diagnostics under the cursor, else those on the cursor's line.
---@return vim.Diagnostic[]
function M.at_cursor(bufnr, row, col)
  local on_line = vim.diagnostic.get(bufnr, { lnum = row })
  local under = vim.tbl_filter(function(d)
    local end_lnum = d.end_lnum or d.lnum
    local end_col = d.end_col or d.col
    local after_start = row > d.lnum or col >= d.col
    local before_end = row < end_lnum or col <= end_col
    return after_start and before_end
  end, on_line)
  return #under > 0 and under or on_line
end

return M
