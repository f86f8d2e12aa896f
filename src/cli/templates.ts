/**
 * The function templates of `nimbus init`: the smallest working function of each form, with the
 * command that deploys it. Dependencies are pinned to versions that run on Node 20.
 */

/** Template names, in the order `nimbus init --help` lists them. */
export const TEMPLATES = ['node', 'typescript', 'python', 'hono', 'express', 'lambda', 'exec'] as const;
export type TemplateName = (typeof TEMPLATES)[number];

/** One template: its files, and whether `npm install` must run before the first deploy. */
export interface Template {
  summary: string;
  files: Record<string, string>;
  needsInstall: boolean;
}

const packageJson = (name: string, main: string, dependencies: Record<string, string> = {}, extra: Record<string, unknown> = {}): string =>
  `${JSON.stringify({ name, private: true, main, ...extra, dependencies }, null, 2)}\n`;

/** The files of `template` for a function called `name`. */
export function templateFiles(template: TemplateName, name: string): Template {
  switch (template) {
    case 'node':
      return {
        summary: 'a Web-standard fetch handler (JavaScript)',
        needsInstall: false,
        files: {
          'index.js': `// ${name}: a Web-standard handler. \`env\` holds the function's environment variables.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    console.log(\`\${request.method} \${url.pathname}\`); // in: nimbus logs ${name}
    return Response.json({ hello: url.searchParams.get('name') ?? 'world', greeting: env.GREETING ?? null });
  },
};
`,
        },
      };
    case 'typescript':
      return {
        summary: 'a Web-standard fetch handler in TypeScript (bundled at deploy)',
        needsInstall: false,
        files: {
          'index.ts': `// ${name}: TypeScript is bundled with esbuild when you deploy; no build step of your own.
export default {
  async fetch(request: Request, env: Record<string, string>): Promise<Response> {
    const { pathname } = new URL(request.url);
    return Response.json({ path: pathname, greeting: env.GREETING ?? null });
  },
};
`,
          'tsconfig.json': `${JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler', strict: true, lib: ['ES2022', 'DOM'] } }, null, 2)}\n`,
        },
      };
    case 'python':
      return {
        summary: 'a Lambda-style Python handler',
        needsInstall: false,
        files: {
          'handler.py': `"""${name}: handler(event, context) receives API Gateway HTTP API (v2.0) events."""
import json
import os


def handler(event, context):
    print(event["requestContext"]["http"]["method"], event["rawPath"])  # in: nimbus logs ${name}
    name = (event.get("queryStringParameters") or {}).get("name", "world")
    return {"statusCode": 200, "body": json.dumps({"hello": name, "greeting": os.environ.get("GREETING")})}
`,
        },
      };
    case 'hono':
      return {
        summary: 'a Hono app',
        needsInstall: true,
        files: {
          'package.json': packageJson(name, 'index.js', { hono: '4.13.19' }, { type: 'module' }),
          'index.js': `import { Hono } from 'hono';

const app = new Hono();
app.get('/', (c) => c.text('${name} on Nimbus'));
app.get('/hello/:name', (c) => c.json({ hello: c.req.param('name') }));

export default app;
`,
        },
      };
    case 'express':
      return {
        summary: 'an Express app (exported, no listen needed)',
        needsInstall: true,
        files: {
          'package.json': packageJson(name, 'app.js', { express: '5.1.0' }),
          'app.js': `const express = require('express');

const app = express();
app.use(express.json());
app.get('/', (req, res) => res.send('${name} on Nimbus'));
app.post('/echo', (req, res) => res.json({ echo: req.body }));

module.exports = app;
`,
        },
      };
    case 'lambda':
      return {
        summary: 'an AWS Lambda-style Node handler',
        needsInstall: false,
        files: {
          'index.mjs': `// ${name}: Lambda style, so Lambda functions move over unmodified.
export const handler = async (event, context) => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ path: event.rawPath, requestId: context.awsRequestId }),
});
`,
        },
      };
    case 'exec':
      return {
        summary: 'any program: a shell script run once per request',
        needsInstall: false,
        files: {
          'nimbus.json': `${JSON.stringify({ runtime: 'exec', command: './run.sh', protocol: 'stdio' })}\n`,
          'run.sh': `#!/bin/sh
# ${name}: the request body arrives on stdin; what this prints is the response.
echo "$Http_Method $Http_Path: $(wc -c | tr -d ' ') bytes"
`,
        },
      };
  }
}
