-- agent/session/request_permission answered through a stubbed vim.ui.select: one run per
-- answer in params.choices (a label to pick, or vim.NIL to dismiss the menu).
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/helpers.lua')

H.run(function()
  H.setup()
  local bufnr = H.open('app.py')
  local original = H.lines(bufnr)
  local choice
  H.stub_select(function(items, _, shown)
    for i, label in ipairs(shown) do
      if label == choice then
        if choice == 'Show diff' then
          choice = 'Allow once' -- look at the diff, then allow
        end
        return items[i]
      end
    end
    return nil -- dismissed
  end)
  H.result.cases = {}
  for i, c in ipairs(H.params.choices) do
    choice = c
    vim.api.nvim_buf_set_lines(bufnr, 0, -1, false, original)
    vim.cmd('AgentAsk! fix add') -- a new session each time: "Always allow" must not carry over
    H.wait('the run to start ' .. i, function()
      local s = H.session()
      return s ~= nil and s.running
    end)
    local s = H.wait_run_end()
    local diff = nil
    for _, b in ipairs(vim.api.nvim_list_bufs()) do
      if vim.bo[b].filetype == 'diff' then
        diff = H.lines(b)
        vim.api.nvim_buf_delete(b, { force = true })
      end
    end
    table.insert(H.result.cases, {
      diff = diff,
      stop_reason = s.last_result and s.last_result.stopReason,
      buffer = H.lines(bufnr),
      transcript = H.transcript_lines(s),
    })
  end
end)
