// Starts the MLX language server (`mlc lsp`, spoken to over stdio) for .mlx
// files. Highlighting needs none of this: it comes from the TextMate grammar.
"use strict";

const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function serverOptions() {
  const command = vscode.workspace.getConfiguration("mlx").get("server.path", "mlc");
  return { command, args: ["lsp"] };
}

async function startClient() {
  client = new LanguageClient("mlx", "MLX language server", serverOptions(), {
    documentSelector: [{ scheme: "file", language: "mlx" }],
  });
  try {
    await client.start();
  } catch (error) {
    const { command } = serverOptions();
    vscode.window.showErrorMessage(
      `Could not start the MLX language server with \`${command} lsp\`: ${error.message}. ` +
        "Install mlc or point the setting mlx.server.path at it.",
    );
  }
}

async function activate(context) {
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration("mlx.server.path")) {
        await client?.stop();
        await startClient();
      }
    }),
  );
  await startClient();
}

function deactivate() {
  return client?.stop();
}

module.exports = { activate, deactivate };
