/** Shell-style patterns (`*`, `?`, `[...]`): the one rule, for local paths (batch.ts) and s3:// keys (s3/input.ts). */

export const GLOB = /[*?[]/;

/** A shell-style pattern (`*`, `?`, `[...]`; none of them crosses a `/`) as an anchored RegExp. */
export function segmentRegex(seg: string): RegExp {
  let re = "";
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i]!;
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = seg.indexOf("]", i + 2);
      if (end < 0) re += "\\[";
      else {
        const body = seg.slice(i + 1, end);
        re += `[${body.startsWith("!") ? "^" + body.slice(1).replace(/\\/g, "\\\\") : body.replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}
