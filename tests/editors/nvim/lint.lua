-- Every Lua file of the plugin compiles, and none sets or reads an undeclared global.
local bc = require('jit.bc')
local BUILTINS = {}
for _, name in ipairs({
  'vim', 'require', 'pairs', 'ipairs', 'type', 'tostring', 'tonumber', 'error', 'assert', 'pcall',
  'xpcall', 'select', 'unpack', 'next', 'setmetatable', 'getmetatable', 'rawget', 'rawset',
  'math', 'table', 'string', 'coroutine', 'io', 'os', 'debug',
}) do
  BUILTINS[name] = true
end

local problems = {}
local root = assert(os.getenv('LSP_AGENT_PLUGIN'))
local files = vim.fn.globpath(root, '**/*.lua', false, true)
for _, file in ipairs(files) do
  local chunk, err = loadfile(file)
  if not chunk then
    table.insert(problems, err)
  else
    local out = {}
    local sink = {
      write = function(_, s)
        table.insert(out, s)
      end,
      close = function() end,
      flush = function() end,
    }
    bc.dump(chunk, sink, true)
    for line in table.concat(out):gmatch('[^\n]+') do
      local op, name = line:match('(G[SG]ET).-"(.-)"')
      if op == 'GSET' or (op == 'GGET' and not BUILTINS[name]) then
        local what = op == 'GSET' and 'sets' or 'reads'
        table.insert(problems, ('%s: %s %s'):format(file:sub(#root + 2), what, name))
      end
    end
  end
end
io.stdout:write(vim.json.encode({ files = #files, problems = problems }))
