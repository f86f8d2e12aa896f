import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { filesIn, handlerNotFound, isFile, type ResolvedHandler } from './handler-files.js';

/** `module.function`, where module may be dotted (`pkg.mod.fn`). */
const PYTHON_HANDLER = /^([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\.([A-Za-z_]\w*)$/;

/** Conventional entry points, tried in order when no handler is given. */
const DEFAULTS: ReadonlyArray<{ file: string; fn: string }> = [
  { file: 'handler.py', fn: 'handler' },
  // The OpenFaaS python3-http template: handler.py with handle(event, context).
  { file: 'handler.py', fn: 'handle' },
  { file: 'main.py', fn: 'handler' },
  { file: 'lambda_function.py', fn: 'lambda_handler' },
];

/**
 * Resolves a python handler `module.function` against the package in `tree`: the module is a
 * file (`pkg.mod.fn` -> `pkg/mod.py`, or `pkg/mod/__init__.py`) that must define the function.
 * Not given: handler.py `handler`, handler.py `handle` (OpenFaaS), main.py `handler`,
 * lambda_function.py `lambda_handler`, or `handler` in the only .py file at the root.
 *
 * @throws HANDLER_NOT_FOUND naming what was tried.
 */
export async function resolvePythonHandler(tree: string, handler: string | undefined): Promise<ResolvedHandler> {
  if (handler !== undefined) {
    const match = PYTHON_HANDLER.exec(handler);
    if (!match) {
      throw handlerNotFound(`The python handler ${JSON.stringify(handler)} must be module.function, e.g. handler.handler or app.main.handler.`);
    }
    const [, module = '', fn = ''] = match;
    const base = module.split('.').join('/');
    const candidates = [`${base}.py`, `${base}/__init__.py`];
    for (const file of candidates) {
      if (!(await isFile(tree, file))) continue;
      if (await defines(tree, file, fn)) return { runtime: 'python', handler, entry: file, export: fn };
      throw handlerNotFound(`${file} does not define ${fn}(); add \`def ${fn}(event, context):\` or name another function in the handler.`);
    }
    throw handlerNotFound(`No module file for the handler ${JSON.stringify(handler)} in the package (tried ${candidates.join(', ')}).`);
  }

  const rootPy = (await filesIn(tree)).filter((name) => name.endsWith('.py'));
  const choices = rootPy.length === 1 && rootPy[0] !== undefined ? [...DEFAULTS, { file: rootPy[0], fn: 'handler' }] : DEFAULTS;
  for (const { file, fn } of choices) {
    if ((await isFile(tree, file)) && (await defines(tree, file, fn))) {
      return { runtime: 'python', handler: `${file.slice(0, -'.py'.length)}.${fn}`, entry: file, export: fn };
    }
  }
  throw handlerNotFound(
    `No handler given and none found: looked for ${DEFAULTS.map((d) => `${d.fn}() in ${d.file}`).join(', ')}, and handler() in a single .py file at the root. Pass the handler as module.function, e.g. --handler app.handler.`,
  );
}

/**
 * True when the module's source defines `fn` at top level: `def`/`async def`, an assignment
 * (`handler = Mangum(app)`), or an import. A textual check: loading the module is the shim's job.
 */
async function defines(tree: string, file: string, fn: string): Promise<boolean> {
  const source = await readFile(join(tree, file), 'utf8');
  const pattern = new RegExp(
    [
      `^(?:async[ \\t]+)?def[ \\t]+${fn}[ \\t]*\\(`,
      `^${fn}[ \\t]*(?::[^=\\n]*)?=(?!=)`,
      `^from[ \\t]+\\S+[ \\t]+import[ \\t][^\\n]*\\b${fn}\\b`,
    ].join('|'),
    'm',
  );
  return pattern.test(source);
}
