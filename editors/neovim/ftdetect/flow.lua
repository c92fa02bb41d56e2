-- *.flow files are flowc call flows.
vim.filetype.add({ extension = { flow = "flow" } })
