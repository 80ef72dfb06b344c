-- Small helpers shared by the modules: buffers for URIs, position units, messages.
local api = vim.api

local M = {}

M.has_011 = vim.fn.has('nvim-0.11') == 1

function M.notify(msg, level)
  vim.notify('lsp-agent: ' .. msg, level or vim.log.levels.INFO)
end

--- A regular file buffer (the kind that has a file:// URI)?
function M.is_file_buffer(bufnr)
  return api.nvim_buf_is_valid(bufnr)
    and vim.bo[bufnr].buftype == ''
    and api.nvim_buf_get_name(bufnr) ~= ''
end

local function same_file(a, b)
  return vim.fs.normalize(a) == vim.fs.normalize(b)
end

--- The loaded buffer showing `uri`, if any (never creates one, unlike vim.uri_to_bufnr).
---@return integer?
function M.buf_for_uri(uri)
  local ok, fname = pcall(vim.uri_to_fname, uri)
  for _, bufnr in ipairs(api.nvim_list_bufs()) do
    if api.nvim_buf_is_loaded(bufnr) and M.is_file_buffer(bufnr) then
      if vim.uri_from_bufnr(bufnr) == uri then
        return bufnr
      end
      if ok and same_file(api.nvim_buf_get_name(bufnr), fname) then
        return bufnr
      end
    end
  end
  return nil
end

--- A file URI shown relative to the cwd (or ~).
function M.display_uri(uri)
  local ok, fname = pcall(vim.uri_to_fname, uri)
  return ok and vim.fn.fnamemodify(fname, ':~:.') or uri
end

local function utf16_len(s)
  if vim.fn.exists('*strutf16len') == 1 then
    return vim.fn.strutf16len(s)
  end
  local ok, _, n = pcall(vim.str_utfindex, s)
  return ok and n or #s
end

--- Byte column `col` of `line` in the client's position encoding.
function M.units(line, col, encoding)
  line = line or ''
  col = math.max(0, math.min(col or 0, #line))
  local prefix = line:sub(1, col)
  if encoding == 'utf-8' then
    return col
  elseif encoding == 'utf-32' then
    return vim.fn.strchars(prefix)
  end
  return utf16_len(prefix)
end

--- Line `lnum` (0-based) of a buffer, or '' when it has none.
function M.line(bufnr, lnum)
  if not api.nvim_buf_is_loaded(bufnr) then
    return ''
  end
  return api.nvim_buf_get_lines(bufnr, lnum, lnum + 1, false)[1] or ''
end

--- The document version the LSP client last saw for a buffer.
function M.version(bufnr)
  local versions = vim.lsp.util.buf_versions
  local v = versions and versions[bufnr]
  if type(v) == 'number' then
    return v
  end
  return api.nvim_buf_get_changedtick(bufnr)
end

function M.first_line(text, max)
  max = max or 60
  local line = vim.trim((vim.split(vim.trim(text or ''), '\n', { plain = true })[1]) or '')
  if vim.fn.strchars(line) > max then
    line = vim.fn.strcharpart(line, 0, max - 1) .. '…'
  end
  return line
end

return M
