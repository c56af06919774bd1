// Copies the one TextMate grammar, grammar/mlx.tmLanguage.json, into the
// extension: vsce packages only files inside this folder. The copy is
// gitignored, so there is nothing to keep in step by hand.
"use strict";

const fs = require("node:fs");
const path = require("node:path");

const source = path.resolve(__dirname, "../../../grammar/mlx.tmLanguage.json");
const target = path.resolve(__dirname, "../syntaxes/mlx.tmLanguage.json");

fs.mkdirSync(path.dirname(target), { recursive: true });
fs.copyFileSync(source, target);
