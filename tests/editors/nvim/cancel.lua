-- :AgentCancel during a stalled model stream, or during a running shell command.
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/helpers.lua')

--- Is a process with exactly this command line running? (reads /proc)
local function running(cmdline)
  for name in vim.fs.dir('/proc') do
    if name:match('^%d+$') then
      local f = io.open('/proc/' .. name .. '/cmdline', 'rb')
      if f then
        local raw = f:read('*a') or ''
        f:close()
        if raw:gsub('%z', ' '):gsub(' $', '') == cmdline then
          return true
        end
      end
    end
  end
  return false
end

H.run(function()
  H.setup()
  H.open('app.py')
  vim.cmd('AgentAsk ' .. H.params.prompt)
  H.wait('the run to be under way', function()
    return H.transcript():find(H.params.started, 1, true) ~= nil
  end)
  if H.params.process then
    H.wait('the shell command to run', function()
      return running(H.params.process)
    end)
  end
  local s = H.session()
  H.result.running_before = s.running
  vim.cmd('AgentCancel')
  s = H.wait_run_end()
  H.result.stop_reason = s.last_result and s.last_result.stopReason
  H.result.header = H.transcript_lines(s)[1]
  H.result.transcript = H.transcript_lines(s)
  if H.params.process then
    H.wait('the shell command to be gone', function()
      return not running(H.params.process)
    end, 5000)
  end
end)
