// "flowc: Show Flow Graph" and "flowc: Open Flow Graph as Mermaid": the diagram of the open project, asked of
// the language server with its `flowc/graph` request (the same diagram as `flowc graph`). The graph panel shows
// the SVG Graphviz draws on this machine; the webview loads nothing from the internet and runs no script.
// Without Graphviz the Mermaid text opens instead. Plain JavaScript; `vscode` is passed in, so the HTML part
// also runs under plain Node (tests/test_graph_editors.py).
'use strict';

const GRAPH_REQUEST = 'flowc/graph';

/** The webview's page: the SVG and nothing else (no scripts, no remote resources). */
function webviewHtml(svg, title) {
  const start = svg.indexOf('<svg');
  const body = start >= 0 ? svg.slice(start) : '';
  const csp = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${csp}">`,
    `<title>${escapeHtml(title)}</title>`,
    '<style>body { background: white; margin: 0; padding: 1em; } svg { max-width: none; }</style>',
    '</head><body>',
    body,
    '</body></html>',
  ].join('\n');
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The project's diagram in `format`, for the project of the active .flow document; throws with the reason. */
async function requestGraph(client, vscode, format) {
  if (!client) throw new Error('the flowc language server is not running');
  const editor = vscode.window.activeTextEditor;
  const uri = editor && editor.document.languageId === 'flow' ? editor.document.uri.toString() : undefined;
  const answer = await client.sendRequest(GRAPH_REQUEST, { uri, format });
  if (!answer || answer.error) throw new Error(answer ? answer.error : 'no answer');
  if (answer.warning) vscode.window.showWarningMessage(`flowc: ${answer.warning}`);
  return answer.text;
}

async function openText(vscode, text, language) {
  const document = await vscode.workspace.openTextDocument({ content: text, language });
  await vscode.window.showTextDocument(document, { preview: false });
}

/** Open the Mermaid text of the graph in an editor (paste it into a ```mermaid block to render it on a forge). */
async function openMermaid(client, vscode) {
  try {
    await openText(vscode, await requestGraph(client, vscode, 'mermaid'), 'mermaid');
  } catch (error) {
    vscode.window.showErrorMessage(`flowc: no graph (${error.message})`);
  }
}

/** Show the graph in a panel; without Graphviz, open the Mermaid text and say how to get the picture. */
async function showGraph(client, vscode) {
  let svg;
  try {
    svg = await requestGraph(client, vscode, 'svg');
  } catch (error) {
    if (!/FC801/.test(error.message)) {
      vscode.window.showErrorMessage(`flowc: no graph (${error.message})`);
      return;
    }
    vscode.window.showInformationMessage('flowc: install Graphviz (`dot`) to see the graph as a picture; ' +
      'showing its Mermaid text instead.');
    await openMermaid(client, vscode);
    return;
  }
  const panel = vscode.window.createWebviewPanel('flowcGraph', 'flowc graph', vscode.ViewColumn.Beside,
    { enableScripts: false, localResourceRoots: [] });
  panel.webview.html = webviewHtml(svg, 'flowc graph');
}

module.exports = { GRAPH_REQUEST, webviewHtml, requestGraph, showGraph, openMermaid };
