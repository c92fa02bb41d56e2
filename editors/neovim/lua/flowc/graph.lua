-- :FlowcGraph [mermaid|dot|svg]: the diagram of the current buffer's project, from the flowc language server's
-- `flowc/graph` request (the same diagram as `flowc graph`), opened in a new scratch window. Mermaid is the
-- default; `dot` gives Graphviz source (`:w !dot -Tsvg > flows.svg` draws it).
local M = {}

local FILETYPES = { mermaid = "mermaid", dot = "dot", svg = "svg" }

function M.show(format)
  format = (format and format ~= "") and format or "mermaid"
  local buf = vim.api.nvim_get_current_buf()
  local client = vim.lsp.get_clients({ bufnr = buf, name = "flowc" })[1]
    or vim.lsp.get_clients({ name = "flowc" })[1]
  if not client then
    vim.notify("flowc: the language server is not running (open a .flow file first)", vim.log.levels.ERROR)
    return
  end
  local params = { uri = vim.uri_from_bufnr(buf), format = format }
  client:request("flowc/graph", params, function(err, result)
    if err or not result or result.error then
      local reason = err and err.message or (result and result.error) or "no answer"
      vim.notify("flowc: no graph (" .. reason .. ")", vim.log.levels.ERROR)
      return
    end
    if result.warning then
      vim.notify("flowc: " .. result.warning, vim.log.levels.WARN)
    end
    vim.cmd("vnew")
    local out = vim.api.nvim_get_current_buf()
    vim.api.nvim_buf_set_lines(out, 0, -1, false, vim.split(result.text, "\n", { trimempty = true }))
    vim.bo[out].buftype = "nofile"
    vim.bo[out].bufhidden = "wipe"
    vim.bo[out].filetype = FILETYPES[result.format] or ""
    vim.api.nvim_buf_set_name(out, "flowc-graph-" .. out .. "." .. (result.format == "mermaid" and "mmd" or result.format))
  end, buf)
end

return M
