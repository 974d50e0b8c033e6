/**
 * Module resolution as a browser does it, for code under `roots`: relative and URL imports, and
 * the import map's `zarrio/web`. A `node:` built-in or any other bare specifier fails to resolve,
 * as it would in a page. Registered by serverless-run.mjs.
 */
let roots = [];

export function initialize(data) {
  roots = data.roots;
}

export async function resolve(specifier, context, next) {
  const parent = context.parentURL ?? "";
  if (roots.some((r) => parent.startsWith(r))) {
    const relative = /^(\.{0,2}\/|file:|https?:|data:)/.test(specifier);
    if (!relative && specifier !== "zarrio/web") {
      throw new Error(`a browser cannot import '${specifier}' (imported by ${parent})`);
    }
  }
  return next(specifier, context);
}
