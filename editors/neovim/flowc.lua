-- flowc for Neovim 0.11+, in one piece: copy into your init.lua (or `dofile()` this file from it).
-- It recognises *.flow files and starts the flowc language server (`flowc lsp`) for them.
-- Alternatively put editors/neovim on 'runtimepath' (see editors/neovim/README.md), which also adds
-- syntax colours and comment settings.

vim.filetype.add({ extension = { flow = "flow" } })

vim.lsp.config("flowc", {
  -- A flowc installed with the language server: pip install 'flowc[lsp]'. Use a full path for a
  -- project virtualenv, e.g. { vim.fn.getcwd() .. "/.venv/bin/flowc", "lsp" }.
  cmd = { "flowc", "lsp" },
  filetypes = { "flow" },
  root_markers = { ".git", "pyproject.toml" },
})
vim.lsp.enable("flowc")

vim.api.nvim_create_autocmd("FileType", {
  pattern = "flow",
  callback = function()
    vim.bo.commentstring = "# %s"
  end,
})
