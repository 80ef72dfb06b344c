-- A long streamed answer and streamed shell output: every edit of the transcript buffer is
-- counted (nvim_buf_set_lines / nvim_buf_set_text calls and the rows each rewrites), as are
-- the updates received and the frames they were applied in.
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/helpers.lua')

local api = vim.api
local stats = { set_lines = 0, set_text = 0, rows = 0, max_rows = 0, full = 0, updates = 0, frames = 0 }
local target -- the transcript buffer, once known

local function count(rows, whole)
  stats.rows = stats.rows + rows
  stats.max_rows = math.max(stats.max_rows, rows)
  if whole then
    stats.full = stats.full + 1
  end
end

local set_lines, set_text = api.nvim_buf_set_lines, api.nvim_buf_set_text
api.nvim_buf_set_lines = function(buf, first, last, strict, lines)
  if buf == target then
    stats.set_lines = stats.set_lines + 1
    local n = api.nvim_buf_line_count(buf)
    local stop = last < 0 and n + last + 1 or last
    count(math.max(stop - first, #lines), first == 0 and stop >= n and n > 1)
  end
  return set_lines(buf, first, last, strict, lines)
end
api.nvim_buf_set_text = function(buf, sr, sc, er, ec, lines)
  if buf == target then
    stats.set_text = stats.set_text + 1
    count(math.max(er - sr + 1, #lines), false)
  end
  return set_text(buf, sr, sc, er, ec, lines)
end

H.run(function()
  H.setup()
  local transcript = require('lsp_agent.transcript')
  local update, flush = transcript.update, transcript.flush
  transcript.update = function(s, u)
    target = s.tx and s.tx.buf or target
    stats.updates = stats.updates + 1
    return update(s, u)
  end
  transcript.flush = function(s)
    if s.tx and s.tx.queue then
      stats.frames = stats.frames + 1
    end
    return flush(s)
  end
  H.open('app.py')
  vim.cmd('AgentAsk! run it and explain')
  local s = H.wait_run_end(30000)
  H.result.stop_reason = s.last_result and s.last_result.stopReason
  H.result.transcript = H.transcript_lines(s)
  H.result.stats = stats
  H.result.max_output_lines = require('lsp_agent.config').options.transcript.max_output_lines
end)
