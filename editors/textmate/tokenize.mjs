// Tokenises documents with vscode-textmate and vscode-oniguruma, the engine
// VS Code itself highlights with, so the tests see exactly what an editor shows.
//
// stdin:  {"grammar": "<path to a .tmLanguage.json>", "documents": {"<id>": "<text>", ...}}
// stdout: {"<id>": [[{"text": ..., "scopes": [...]}, ...], ...], ...}: one array of tokens per line
//
// One process tokenises every document: starting Node and loading the
// regular-expression engine once keeps the test run fast.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import oniguruma from "vscode-oniguruma";
import textmate from "vscode-textmate";

const require = createRequire(import.meta.url);

async function loadGrammar(grammarPath) {
  const wasm = readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm"));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const rawGrammar = textmate.parseRawGrammar(readFileSync(grammarPath, "utf8"), grammarPath);
  const registry = new textmate.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (text) => new oniguruma.OnigString(text),
    }),
    loadGrammar: async (scopeName) => (scopeName === rawGrammar.scopeName ? rawGrammar : null),
  });
  return registry.loadGrammar(rawGrammar.scopeName);
}

function tokenizeDocument(grammar, text) {
  let ruleStack = textmate.INITIAL;
  return text.split(/\r?\n/).map((line) => {
    const result = grammar.tokenizeLine(line, ruleStack);
    ruleStack = result.ruleStack;
    return result.tokens.map((token) => ({
      text: line.slice(token.startIndex, token.endIndex),
      scopes: token.scopes,
    }));
  });
}

const request = JSON.parse(readFileSync(0, "utf8"));
const grammar = await loadGrammar(request.grammar);
const tokenized = {};
for (const id of Object.keys(request.documents).sort()) {
  tokenized[id] = tokenizeDocument(grammar, request.documents[id]);
}
process.stdout.write(JSON.stringify(tokenized));
