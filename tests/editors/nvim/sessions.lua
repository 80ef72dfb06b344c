-- Phase "ask": a first session. Phase "load": :AgentSessions in a new Neovim picks it,
-- the transcript is replayed, and a follow-up question continues that session.
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/helpers.lua')

H.run(function()
  H.setup()
  H.open('app.py')
  if H.params.phase == 'ask' then
    vim.cmd('AgentAsk remember the word pineapple')
    local s = H.wait_run_end()
    H.result.session = s.id
    return
  end
  H.stub_select(function(items, _, shown)
    for i, label in ipairs(shown) do
      if label:find(H.params.pick, 1, true) then
        return items[i]
      end
    end
  end)
  vim.cmd('AgentSessions')
  H.wait('the session to be loaded', function()
    local s = H.session()
    return s ~= nil and s.tx ~= nil and s.tx.status:find('^loaded') ~= nil
  end)
  local s = H.session()
  H.result.session = s.id
  H.result.loaded = H.transcript_lines(s)
  H.result.loaded_window = #vim.fn.win_findbuf(s.tx.buf)
  vim.cmd('AgentAsk which word?')
  s = H.wait_run_end()
  H.result.same_session = s.id == H.result.session
  H.result.transcript = H.transcript_lines(s)
end)
