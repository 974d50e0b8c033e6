/**
 * Long file lists on the command line. clipanion's parser does work per token that grows with the
 * number of tokens (10,000 files from a shell glob take it ~9 s), so runs of plain arguments are
 * folded into one placeholder before parsing and unfolded in the parsed command. A run keeps its
 * first token (it may be the value of the option before it) and its last (the output or archive).
 */
const TAG = "\u0000zarrio-args:";
const FOLD_FROM = 16;

export interface FoldedArgs {
  args: string[];
  runs: string[][];
}

export function foldArgs(args: string[]): FoldedArgs {
  const out: string[] = [];
  const runs: string[][] = [];
  let run: string[] = [];
  const flush = () => {
    if (run.length >= FOLD_FROM) {
      out.push(run[0]!, `${TAG}${runs.length}`, run[run.length - 1]!);
      runs.push(run.slice(1, -1));
    } else out.push(...run);
    run = [];
  };
  for (const a of args) {
    if (a.startsWith("-")) {
      flush();
      out.push(a);
    } else run.push(a);
  }
  flush();
  return { args: out, runs };
}

/** Put the folded runs back into every list of strings the parsed command holds. */
export function unfoldInto(command: object, folded: FoldedArgs): void {
  if (!folded.runs.length) return;
  const target = command as Record<string, unknown>;
  for (const [key, value] of Object.entries(target)) {
    if (Array.isArray(value) && value.some((x) => typeof x === "string" && x.startsWith(TAG))) {
      target[key] = value.flatMap((x) => (typeof x === "string" && x.startsWith(TAG) ? folded.runs[Number(x.slice(TAG.length))]! : [x]));
    }
  }
}
