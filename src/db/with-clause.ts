// Reads the top level of a SQL statement the way Postgres does, so that a statement
// `with a as (…), b as (…) <final query>` can take more CTEs around its final query:
// data-modifying CTEs must stay at the top level, so a statement that writes cannot
// simply be nested inside another one.

/** Keywords that start the final query of a WITH statement (CTE bodies are always in parentheses). */
const finalQueryStarts = new Set(["select", "insert", "update", "delete", "values", "table", "merge"]);

export type WithClause = {
  /** `with [recursive] a as (…), b as (…)`, or undefined when the statement has no WITH. */
  withList: string | undefined;
  /** The query after the WITH list (the whole statement when there is none), without a trailing `;`. */
  finalQuery: string;
};

/**
 * Splits `text` into its WITH list and its final query. Parentheses are counted outside of string
 * constants ('…', E'…'), quoted identifiers ("…"), dollar quotes ($$…$$, $tag$…$tag$) and comments
 * (-- and nested /* … *\/); `$1` is a parameter, not a dollar quote.
 */
export function splitWithClause(text: string): WithClause {
  const statement = text.trim().replace(/;\s*$/, "");
  let depth = 0;
  let previousWord: string | undefined;
  let previousToken: string | undefined;
  for (let i = 0; i < statement.length; ) {
    const char = statement[i] as string;
    const skipped = skipLiteralOrComment(statement, i);
    if (skipped > i) {
      previousToken = "literal";
      i = skipped;
      continue;
    }
    if (char === "(" || char === ")") {
      depth += char === "(" ? 1 : -1;
      if (depth === 0) previousToken = ")";
      i++;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(statement.slice(i, i + 64))?.[0];
    if (!word) {
      if (depth === 0 && char === ",") previousToken = ",";
      i++;
      continue;
    }
    if (depth === 0) {
      const lower = word.toLowerCase();
      if (previousWord === undefined && lower !== "with") return { withList: undefined, finalQuery: statement };
      // The first statement keyword at the top level that is not a CTE's name (after `with`, `recursive` or `,`).
      const namesACte = previousToken === "," || previousWord === "with" || previousWord === "recursive";
      if (previousWord !== undefined && finalQueryStarts.has(lower) && !namesACte) {
        return { withList: statement.slice(0, i).trimEnd(), finalQuery: statement.slice(i) };
      }
      previousWord = lower;
      previousToken = lower;
    }
    i += word.length;
  }
  throw new Error("The statement's WITH list has no final query");
}

/** The index just past the string constant, quoted identifier, dollar quote or comment at `i`; `i` if none starts there. */
function skipLiteralOrComment(text: string, i: number): number {
  const rest = text.slice(i, i + 2);
  if (rest === "--") {
    const end = text.indexOf("\n", i);
    return end === -1 ? text.length : end + 1;
  }
  if (rest === "/*") {
    // Block comments nest in Postgres.
    let depth = 0;
    for (let j = i; j < text.length - 1; j++) {
      const pair = text.slice(j, j + 2);
      if (pair !== "/*" && pair !== "*/") continue;
      depth += pair === "/*" ? 1 : -1;
      if (depth === 0) return j + 2;
      j++;
    }
    return text.length;
  }
  const char = text[i];
  const escapes = (char === "E" || char === "e") && text[i + 1] === "'" && !/[A-Za-z0-9_$]/.test(text[i - 1] ?? "");
  if (char === "'" || escapes) return skipQuoted(text, escapes ? i + 1 : i, "'", escapes);
  if (char === '"') return skipQuoted(text, i, '"', false);
  if (char === "$" && !/[A-Za-z0-9_]/.test(text[i - 1] ?? "")) {
    const tag = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(text.slice(i, i + 64))?.[0];
    if (tag) {
      const end = text.indexOf(tag, i + tag.length);
      return end === -1 ? text.length : end + tag.length;
    }
  }
  return i;
}

/** Past a run quoted by `quote` starting at `open`, where a doubled quote (or, with `backslashes`, `\'`) is part of it. */
function skipQuoted(text: string, open: number, quote: string, backslashes: boolean): number {
  for (let j = open + 1; j < text.length; j++) {
    if (backslashes && text[j] === "\\") j++;
    else if (text[j] === quote) {
      if (text[j + 1] !== quote) return j + 1;
      j++;
    }
  }
  return text.length;
}
