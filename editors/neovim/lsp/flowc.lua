-- The flowc language server for Neovim 0.11+ (`:help lsp-config`). With this folder on 'runtimepath',
-- `vim.lsp.enable("flowc")` starts `flowc lsp` for every .flow buffer; override any field with
-- `vim.lsp.config("flowc", { cmd = { "/path/to/.venv/bin/flowc", "lsp" } })`.
return {
  cmd = { "flowc", "lsp" },
  filetypes = { "flow" },
  -- Names are shared by all .flow files of a project: one server per repository.
  root_markers = { ".git", "pyproject.toml" },
}
