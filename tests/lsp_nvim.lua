-- #24: headless Neovim (>= 0.11) as a real client of `leadey-scan --lsp`, run by tests/lsp.rs
-- (`nvim --headless --clean -l tests/lsp_nvim.lua`) and by bench/lsp.py (LEADEY_NVIM_BENCH).
-- Starts the server with vim.lsp.start on a buffer that is never written, pastes a key into it,
-- reads vim.diagnostic.get(), asks for the quick fix, applies it, and writes what it saw as JSON
-- to $LEADEY_NVIM_OUT. The key comes from the environment: the test builds it at run time.
local bin = assert(os.getenv('LEADEY_SCAN_BIN'), 'LEADEY_SCAN_BIN')
local key = assert(os.getenv('LEADEY_TEST_KEY'), 'LEADEY_TEST_KEY')
local out = assert(os.getenv('LEADEY_NVIM_OUT'), 'LEADEY_NVIM_OUT')
local dir = assert(os.getenv('LEADEY_NVIM_DIR'), 'LEADEY_NVIM_DIR')
local wait_ms = 20000

local result = { errors = {} }
local function finish()
  local f = assert(io.open(out, 'w'))
  f:write(vim.json.encode(result))
  f:close()
  vim.cmd('qa!')
end

local function fail(msg)
  table.insert(result.errors, msg)
  finish()
end

-- Filetype detection only: Python's ftplugin and syntax cost seconds on a loaded machine, and
-- the server needs only the language id.
vim.cmd('filetype plugin indent off')
vim.cmd('syntax off')

-- A buffer for a file that does not exist: nothing is on disk, only the buffer's text.
vim.cmd('edit ' .. vim.fn.fnameescape(dir .. '/new_settings.py'))
local buf = vim.api.nvim_get_current_buf()
local config = {
  name = 'leadey-scan',
  cmd = { bin, '--lsp' },
  root_dir = dir,
  -- Every change is sent at once (the default waits 150 ms after the last one).
  flags = { debounce_text_changes = 0 },
}
-- Neovim offers UTF-8, UTF-16 and UTF-32; LEADEY_NVIM_ENCODING offers only the one named.
local only = os.getenv('LEADEY_NVIM_ENCODING')
if only and only ~= '' then
  config.capabilities = vim.tbl_deep_extend('force', vim.lsp.protocol.make_client_capabilities(),
    { general = { positionEncodings = { only } } })
end
local client_id = vim.lsp.start(config, { bufnr = buf })
if not client_id then
  return fail('vim.lsp.start returned nil')
end
local client
if not vim.wait(wait_ms, function()
  client = vim.lsp.get_client_by_id(client_id)
  return client ~= nil and client.initialized
end, 10) then
  return fail('the server did not initialise')
end
result.offset_encoding = client.offset_encoding

-- Paste: a first line, then the key after characters of 2 and 4 UTF-8 bytes.
local line = 'é𝄞 = "' .. key .. '"'
vim.api.nvim_buf_set_lines(buf, 0, -1, false, { 'x = 1', line })
local started = vim.uv.hrtime()
if not vim.wait(wait_ms, function()
  return #vim.diagnostic.get(buf) > 0
end, 1) then
  return fail('no diagnostic after the paste')
end
result.paste_to_diagnostic_ms = (vim.uv.hrtime() - started) / 1e6
result.modified = vim.bo[buf].modified
result.on_disk = vim.uv.fs_stat(dir .. '/new_settings.py') ~= nil
result.diagnostics = {}
for _, d in ipairs(vim.diagnostic.get(buf)) do
  table.insert(result.diagnostics, {
    lnum = d.lnum,
    col = d.col,
    end_lnum = d.end_lnum,
    end_col = d.end_col,
    severity = d.severity,
    code = d.code,
    source = d.source,
    message = d.message,
  })
end

-- The quick fix: ask for code actions on the key's line, apply the one offered.
local d = vim.diagnostic.get(buf)[1]
local params = {
  textDocument = { uri = vim.uri_from_bufnr(buf) },
  range = d.user_data.lsp.range,
  context = { diagnostics = { d.user_data.lsp } },
}
local response = client:request_sync('textDocument/codeAction', params, wait_ms, buf)
if not response or response.err then
  return fail('codeAction failed: ' .. vim.inspect(response))
end
local actions = response.result or {}
result.actions = #actions
if #actions == 1 then
  result.action_title = actions[1].title
  vim.lsp.util.apply_workspace_edit(actions[1].edit, client.offset_encoding)
  -- What the fix added after the line, and whether the line is otherwise untouched (the line
  -- itself holds the key: it is not written out).
  local fixed = vim.api.nvim_buf_get_lines(buf, 1, 2, false)[1]
  result.fix_kept_line = fixed:sub(1, #line) == line
  result.fix_added = fixed:sub(#line + 1)
  result.cleared = vim.wait(wait_ms, function()
    return #vim.diagnostic.get(buf) == 0
  end, 1)
end
finish()
