// Parse Mermaid diagrams with Mermaid's own parser (the code that renders them on the forges), under Node
// with a jsdom window. Usage: node tools/mermaid/parse.mjs FILE...  Prints {"FILE": "ok" | "the error"} as
// JSON; exits 1 if any file does not parse. tests/test_graph.py runs it on every generated diagram.
import { readFileSync } from 'node:fs';
import { JSDOM } from 'jsdom';

const dom = new JSDOM('<!doctype html><html><body></body></html>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import('mermaid');
mermaid.initialize({ startOnLoad: false });

const results = {};
let failed = false;
for (const file of process.argv.slice(2)) {
  try {
    const parsed = await mermaid.parse(readFileSync(file, 'utf8'));
    results[file] = parsed && parsed.diagramType ? `ok ${parsed.diagramType}` : 'ok';
  } catch (error) {
    failed = true;
    results[file] = String(error && error.message ? error.message : error);
  }
}
process.stdout.write(JSON.stringify(results, null, 1) + '\n');
process.exit(failed ? 1 : 0);
