#!/usr/bin/env node
// Tokenizes .flow files with the TextMate grammar the way VS Code does (vscode-textmate + vscode-oniguruma)
// and prints {"FILE": [[{"start", "end", "text", "scopes"}, ...] per line], ...} as JSON on stdout
// (start and end are code-point columns in the line).
//
//   node tests/textmate/tokenize.js [--grammar PATH] FILE...
//
// Used by tests/test_textmate.py; the grammar defaults to editors/vscode/syntaxes/flow.tmLanguage.json.
'use strict';

const fs = require('fs');
const path = require('path');
const vsctm = require('vscode-textmate');
const oniguruma = require('vscode-oniguruma');

const ROOT = path.resolve(__dirname, '..', '..');

async function registry(grammarPath) {
  const wasm = fs.readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  return new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (text) => new oniguruma.OnigString(text),
    }),
    loadGrammar: async (scopeName) => {
      if (scopeName !== 'source.flow') return null;
      const text = fs.readFileSync(grammarPath, 'utf8');
      return vsctm.parseRawGrammar(text, grammarPath);
    },
  });
}

function tokenizeFile(grammar, file) {
  // Lines split as VS Code does: on \n, with a trailing \r removed.
  const lines = fs.readFileSync(file, 'utf8').split('\n').map((line) => line.replace(/\r$/, ''));
  let ruleStack = vsctm.INITIAL;
  return lines.map((line) => {
    const result = grammar.tokenizeLine(line, ruleStack);
    ruleStack = result.ruleStack;
    // Offsets in code points (as Python counts them), not UTF-16 units.
    const points = (units) => Array.from(line.slice(0, units)).length;
    return result.tokens
      .map((t) => ({ units: [t.startIndex, Math.min(t.endIndex, line.length)], scopes: t.scopes }))
      .filter((t) => t.units[1] > t.units[0])
      .map((t) => ({
        start: points(t.units[0]), end: points(t.units[1]), text: line.slice(...t.units), scopes: t.scopes,
      }));
  });
}

async function main(argv) {
  let grammarPath = path.join(ROOT, 'editors', 'vscode', 'syntaxes', 'flow.tmLanguage.json');
  const files = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--grammar') grammarPath = argv[++i];
    else files.push(argv[i]);
  }
  const grammar = await (await registry(grammarPath)).loadGrammar('source.flow');
  if (!grammar) throw new Error(`cannot load the grammar ${grammarPath}`);
  const out = {};
  for (const file of files) out[file] = tokenizeFile(grammar, file);
  process.stdout.write(JSON.stringify(out));
}

main(process.argv.slice(2)).catch((error) => {
  console.error(error && error.stack ? error.stack : String(error));
  process.exit(1);
});
