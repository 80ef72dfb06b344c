-- Run in a terminal Neovim (in tmux) after `:source SESSION`: put each window's saved lines,
-- cursor and top line back (a scratch buffer such as the transcript comes back empty), redraw,
-- and tell tmux the screen is drawn (helpers.lua's capture_screen then captures the pane).
local f = assert(io.open(assert(os.getenv('LSP_AGENT_SCREEN_STATE')), 'r'))
local state = vim.json.decode(f:read('*a'))
f:close()
for i, win in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
  local saved = state.windows[i]
  if saved then
    local buf = vim.api.nvim_win_get_buf(win)
    if not vim.deep_equal(vim.api.nvim_buf_get_lines(buf, 0, -1, false), saved.lines) then
      vim.bo[buf].modifiable = true
      vim.api.nvim_buf_set_lines(buf, 0, -1, false, saved.lines)
      vim.bo[buf].modified = false
    end
    pcall(vim.api.nvim_win_set_cursor, win, saved.cursor)
    vim.api.nvim_win_call(win, function()
      vim.fn.winrestview({ topline = saved.topline, lnum = saved.cursor[1] })
    end)
  end
end
vim.cmd('redraw!')
vim.defer_fn(function()
  vim.cmd('redraw!')
  vim.fn.system({ 'tmux', 'set-environment', 'LSP_AGENT_SCREEN_DRAWN', '1' })
end, 100)
