// Renders one .mlx file as a standalone HTML page, highlighted through the
// TextMate grammar with shiki and VS Code's default dark theme: the picture of
// what an editor shows. editors/screenshot.sh turns the page into a PNG.
//
// usage: node render-html.mjs GRAMMAR SOURCE.mlx OUTPUT.html
import { readFileSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import { createHighlighter } from "shiki";
import { createOnigurumaEngine } from "shiki/engine/oniguruma";

const [grammarPath, sourcePath, outputPath] = process.argv.slice(2);
if (!outputPath) {
  console.error("usage: node render-html.mjs GRAMMAR SOURCE.mlx OUTPUT.html");
  process.exit(2);
}

const theme = "dark-plus";
const highlighter = await createHighlighter({
  themes: [theme],
  langs: [{ ...JSON.parse(readFileSync(grammarPath, "utf8")), name: "mlx" }],
  engine: createOnigurumaEngine(import("shiki/wasm")),
});
const code = readFileSync(sourcePath, "utf8").replace(/\n$/, "");
const highlighted = highlighter.codeToHtml(code, { lang: "mlx", theme });
const background = highlighter.getTheme(theme).bg;

writeFileSync(
  outputPath,
  `<!doctype html>
<html>
<head>
<meta charset="utf-8">
<title>${basename(sourcePath)}</title>
<style>
  html, body { margin: 0; background: ${background}; }
  pre.shiki { margin: 0; padding: 20px 28px; font: 14px/20px "DejaVu Sans Mono", monospace; }
</style>
</head>
<body>
${highlighted}
</body>
</html>
`,
);
