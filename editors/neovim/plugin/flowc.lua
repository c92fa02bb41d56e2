-- :FlowcGraph [mermaid|dot|svg]: see lua/flowc/graph.lua.
vim.api.nvim_create_user_command("FlowcGraph", function(opts)
  require("flowc.graph").show(opts.args)
end, {
  nargs = "?",
  complete = function() return { "mermaid", "dot", "svg" } end,
  desc = "flowc: the diagram of this project's flows",
})
