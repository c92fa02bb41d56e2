-- Indentation for .flow files as `flowc fmt` lays them out: one level (4 spaces) more after a line that ends
-- with `{` (before any end-of-line comment), one less for a line that starts with `}`.
if vim.b.did_indent then
  return
end
vim.b.did_indent = true

function _G.flowc_indent(lnum)
  local previous = vim.fn.prevnonblank(lnum - 1)
  if previous == 0 then
    return 0
  end
  local indent = vim.fn.indent(previous)
  -- a trailing comment (a `#` with no quote after it, so not one inside a string) does not count
  local code = vim.fn.getline(previous):gsub('%s*#[^"]*$', "")
  if code:match("{%s*$") then
    indent = indent + vim.fn.shiftwidth()
  end
  if vim.fn.getline(lnum):match("^%s*}") then
    indent = indent - vim.fn.shiftwidth()
  end
  return math.max(indent, 0)
end

vim.bo.indentexpr = "v:lua.flowc_indent(v:lnum)"
vim.bo.indentkeys = "0},o,O,!^F"
vim.b.undo_indent = "setlocal indentexpr< indentkeys<"
