// The flowc extension: colours come from the TextMate grammar declared in package.json; this file only starts
// the language server (`flowc lsp` over stdio) for .flow files and registers the commands (the graph ones are in
// graph.js). Plain JavaScript, so nothing to compile.
'use strict';

const path = require('path');
const vscode = require('vscode');
const { LanguageClient } = require('vscode-languageclient/node');
const graph = require('./graph');

let client;

/** The server command from the `flowc.*` settings; a relative path with a slash is taken from the workspace. */
function serverOptions() {
  const config = vscode.workspace.getConfiguration('flowc');
  let command = config.get('serverPath') || 'flowc';
  const args = config.get('serverArgs') || ['lsp'];
  const folder = vscode.workspace.workspaceFolders && vscode.workspace.workspaceFolders[0];
  if (folder && !path.isAbsolute(command) && /[\\/]/.test(command)) {
    command = path.join(folder.uri.fsPath, command);
  }
  const options = folder ? { cwd: folder.uri.fsPath } : {};
  return { command, args, options };
}

async function startClient() {
  const server = serverOptions();
  client = new LanguageClient(
    'flowc',
    'flowc',
    server,
    {
      documentSelector: [
        { scheme: 'file', language: 'flow' },
        { scheme: 'untitled', language: 'flow' },
      ],
      // Names are shared by every .flow file of a project, so the server hears about files changed on disk too.
      synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher('**/*.flow') },
    },
  );
  try {
    await client.start();
  } catch (error) {
    client = undefined;
    const message = `flowc: could not start the language server with \`${server.command} ${server.args.join(' ')}\`` +
      ` (${error && error.message ? error.message : error}). Install flowc (pip install 'flowc[lsp]') or set` +
      ' "flowc.serverPath".';
    vscode.window.showErrorMessage(message, 'Open Settings').then((choice) => {
      if (choice) vscode.commands.executeCommand('workbench.action.openSettings', 'flowc.server');
    });
  }
}

async function restartClient() {
  if (client) {
    const running = client;
    client = undefined;
    await running.stop().catch(() => undefined);
  }
  await startClient();
}

async function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand('flowc.restartServer', restartClient),
    vscode.commands.registerCommand('flowc.showGraph', () => graph.showGraph(client, vscode)),
    vscode.commands.registerCommand('flowc.openGraphMermaid', () => graph.openMermaid(client, vscode)),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('flowc.serverPath') || event.affectsConfiguration('flowc.serverArgs')) {
        restartClient();
      }
    }),
  );
  await startClient();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
