-- agent/review in Neovim (editor.review "hunks"): the diff view opens in a new tab; the
-- keymaps accept the first hunk and reject the second; then a second edit's view is
-- closed (a reject); then :AgentReview switches the session's mode.
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/helpers.lua')

H.run(function()
  H.setup({ settings = { editor = { review = 'hunks' } } })
  local bufnr = H.open('calc.py')
  local review = require('lsp_agent.review')
  local function view()
    local _, v = next(review.active)
    return v
  end

  vim.cmd('AgentAsk! change calc')
  H.wait('the review view', function()
    return view() ~= nil
  end)
  local v = view()
  H.result.view = {
    hunks = #v.hunks,
    granularity = v.granularity,
    tabs = #vim.api.nvim_list_tabpages(),
    diff = vim.wo.diff,
    windows = #vim.api.nvim_tabpage_list_wins(0),
    proposed = H.lines(0),
    winbar = vim.wo.winbar,
  }
  vim.api.nvim_win_set_cursor(0, { v.hunks[1].proposedStart + 1, 0 })
  vim.cmd('normal a') -- accept the hunk under the cursor
  vim.api.nvim_win_set_cursor(0, { v.hunks[2].proposedStart + 1, 0 })
  vim.cmd('normal r') -- reject this one: every hunk is decided, the answer goes back
  local s = H.wait_run_end()
  H.result.first = {
    buffer = H.lines(bufnr),
    tabs = #vim.api.nvim_list_tabpages(),
    transcript = H.transcript_lines(s),
  }

  vim.cmd('AgentAsk change calc again')
  H.wait('the second review view', function()
    return view() ~= nil
  end)
  vim.cmd('close') -- the window is closed without a decision: rejected
  H.wait('the second run to end', function()
    local cur = H.session()
    return cur ~= nil and not cur.running and cur.last_result ~= nil and #vim.api.nvim_list_tabpages() == 1
  end)
  H.result.second = { buffer = H.lines(bufnr), transcript = H.transcript_lines(H.session()) }

  vim.cmd('AgentAsk change calc once more')
  H.wait('the third review view', function()
    return view() ~= nil
  end)
  vim.cmd('AgentCancel') -- the run ends: its review closes with it
  H.wait('the cancelled run to end', function()
    local cur = H.session()
    return cur ~= nil and not cur.running and #vim.api.nvim_list_tabpages() == 1
  end)
  H.result.third = { buffer = H.lines(bufnr), stop_reason = H.session().last_result.stopReason }

  vim.cmd('AgentReview file')
  H.wait('the review mode switched', function()
    return H.session().review == 'file'
  end)
  H.result.review_mode = H.session().review
end)
