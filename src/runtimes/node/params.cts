/**
 * Parameter names of a function, read from its source text. Handler forms that share an arity
 * (`(request, env)` Web-standard, `(req, res)` node:http, `(event, context)` OpenFaaS) are told
 * apart by the names their authors give the parameters, as the docs of each form write them.
 */

/** Names of `fn`'s leading simple parameters; stops at the first destructured or default one. */
export function parameterNames(fn: (...args: never[]) => unknown): string[] {
  let source: string;
  try {
    source = Function.prototype.toString.call(fn);
  } catch {
    return [];
  }
  // `x => …` and `async x => …`: one parameter without parentheses.
  const single = /^(?:async\s+)?([A-Za-z_$][\w$]*)\s*=>/.exec(source);
  if (single) return [single[1]!];
  const open = source.indexOf('(');
  const close = source.indexOf(')', open + 1);
  if (open === -1 || close === -1) return [];
  const names: string[] = [];
  for (const part of source.slice(open + 1, close).split(',')) {
    const name = part.replace(/\/\*[\s\S]*?\*\//g, '').trim();
    if (!/^[A-Za-z_$][\w$]*$/.test(name)) break;
    names.push(name);
  }
  return names;
}

/** `(req, res)`-style: the second parameter is a response object. */
export function looksLikeNodeHttp(fn: (...args: never[]) => unknown): boolean {
  const names = parameterNames(fn);
  return names.length >= 2 && /^(res|resp|response)$/i.test(names[1]!);
}

/** OpenFaaS template style: `(event, context)`. */
export function looksLikeOpenFaas(fn: (...args: never[]) => unknown): boolean {
  const [first, second] = parameterNames(fn);
  return first !== undefined && second !== undefined && /^(event|evt)$/i.test(first) && /^(context|ctx)$/i.test(second);
}
