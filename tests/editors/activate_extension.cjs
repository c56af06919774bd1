// Loads editors/vscode/extension.js against stand-ins for the `vscode` API and
// vscode-languageclient, activates it, and prints what it asked for: which
// language servers it started (and with which command), which it stopped,
// and which error messages it showed.
//
// stdin:  {"settings": {"server.path": ...}, "startFails": bool, "changedSettings": {...} | null}
// stdout: {"clients": [{"id", "name", "serverOptions", "documentSelector", "stopped"}], "errors": [...]}
"use strict";

const fs = require("node:fs");
const Module = require("node:module");
const path = require("node:path");

const scenario = JSON.parse(fs.readFileSync(0, "utf8"));
let settings = scenario.settings;
const report = { clients: [], errors: [] };
const configurationListeners = [];

const vscode = {
  workspace: {
    getConfiguration: (section) => ({
      get: (key, fallback) => (section === "mlx" && key in settings ? settings[key] : fallback),
    }),
    onDidChangeConfiguration: (listener) => {
      configurationListeners.push(listener);
      return { dispose() {} };
    },
  },
  window: {
    showErrorMessage: (message) => report.errors.push(message),
  },
};

class LanguageClient {
  constructor(id, name, serverOptions, clientOptions) {
    this.record = { id, name, serverOptions, documentSelector: clientOptions.documentSelector, stopped: false };
    report.clients.push(this.record);
  }
  start() {
    return scenario.startFails ? Promise.reject(new Error("spawn mlc ENOENT")) : Promise.resolve();
  }
  stop() {
    this.record.stopped = true;
    return Promise.resolve();
  }
}

const standIns = { vscode, "vscode-languageclient/node": { LanguageClient } };
const load = Module._load;
Module._load = function (request, ...rest) {
  return Object.hasOwn(standIns, request) ? standIns[request] : load.call(this, request, ...rest);
};

async function main() {
  const extension = require(path.resolve(__dirname, "../../editors/vscode/extension.js"));
  await extension.activate({ subscriptions: [] });
  if (scenario.changedSettings) {
    settings = scenario.changedSettings;
    const event = { affectsConfiguration: (name) => name === "mlx.server.path" };
    for (const listener of configurationListeners) await listener(event);
  }
  process.stdout.write(JSON.stringify(report));
}

main();
