/**
 * Hostile strings as they could arrive from telemetry (span and service names, attribute values), CI
 * (commit messages, authors) or a person's Markdown. Shared by the renderer tests and the browser test.
 */
export const xssCorpus: readonly string[] = [
  "<script>alert(1)</script>",
  "<img src=x onerror=alert(1)>",
  "<svg onload=alert(1)>",
  '"><img src=x onerror=alert(1)>',
  '<a href="javascript:alert(1)">x</a>',
  "[click](javascript:alert(1))",
  "[click](JaVaScRiPt:alert(1))",
  "[click](java\tscript:alert(1))",
  "[click](&#106;avascript:alert(1))",
  "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
  "![img](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
  "![img](javascript:alert(1))",
  "[ref]: javascript:alert(1)\n\n[ref]",
  '<iframe src="https://evil.example"></iframe>',
  "<details open ontoggle=alert(1)>",
  "<style>body{display:none}</style>",
  '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
  "`<script>` in code still text",
  "<<script>script>alert(1)<</script>/script>",
  "vbscript:msgbox(1)",
  "<a href='https://ok.example' onclick='alert(1)'>ok</a>",
  "line one\n<script>alert(1)</script>",
];

/**
 * Signs that rendered HTML can run something: elements, handlers and URL schemes that execute. Only
 * the markup is examined (what sits between `<` and `>`), not text, which is what a reader should see.
 */
export function activeContentIn(html: string): string[] {
  const tags = [...html.matchAll(/<[a-zA-Z][^>]*>/g)].map((match) => match[0]).join("\n");
  const found: string[] = [];
  const patterns: [string, RegExp][] = [
    ["script element", /<script/i],
    ["iframe element", /<iframe/i],
    ["svg element", /<svg/i],
    ["math element", /<math/i],
    ["style element", /<style/i],
    ["object or embed element", /<(object|embed)/i],
    ["event handler attribute", /\son[a-z]+\s*=/i],
    ["javascript: URL", /(href|src)\s*=\s*["']?\s*(javascript|vbscript):/i],
    ["data: URL", /(href|src)\s*=\s*["']?\s*data:/i],
    // Table alignment (`style="text-align:right"`, which CommonMark renderers emit) is all a style may say.
    ["style attribute", /\sstyle\s*=\s*(?!"text-align:\s*(left|right|center);?")/i],
  ];
  for (const [name, pattern] of patterns) if (pattern.test(tags)) found.push(name);
  return found;
}
