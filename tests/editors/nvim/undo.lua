-- :AgentUndo reverts the agent's edit of the buffer; after the user changed the buffer it
-- refuses (a conflict), and :AgentUndo! reverts anyway.
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/helpers.lua')

local function notified(pattern, after)
  return function()
    for i = after + 1, #H.notifications do
      if H.notifications[i].msg:find(pattern, 1, true) then
        return true
      end
    end
    return false
  end
end

H.run(function()
  H.setup()
  local bufnr = H.open('app.py')
  vim.cmd('AgentAsk fix add')
  H.wait_run_end()
  H.result.edited = H.lines(bufnr)
  local mark = #H.notifications
  vim.cmd('AgentUndo')
  H.wait('the undo', notified('undone: app.py', mark))
  H.wait('the buffer to be reverted', function()
    return H.lines(bufnr)[2] == '    return a - b'
  end)
  H.result.undone = H.lines(bufnr)

  vim.cmd('AgentAsk fix it again')
  H.wait_run_end()
  H.result.edited_again = H.lines(bufnr)
  vim.api.nvim_buf_set_lines(bufnr, 0, 0, false, { '# the user was here' })
  mark = #H.notifications
  vim.cmd('AgentUndo')
  H.wait('the refusal', notified('undo refused', mark))
  H.result.refused = H.lines(bufnr)
  mark = #H.notifications
  vim.cmd('AgentUndo!')
  H.wait('the forced undo', notified('undone: app.py', mark))
  H.wait('the buffer to be reverted again', function()
    return H.lines(bufnr)[2] == '    return a - b'
  end)
  H.result.forced = H.lines(bufnr)
  H.result.transcript = H.transcript_lines()
end)
