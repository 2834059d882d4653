// splitWithClause reads a statement's top level as Postgres does, so the Idempotency-Key
// claim can be added around any statement's final query without being fooled by what is
// inside strings, identifiers, dollar quotes or comments.
import { describe, expect, it } from "vitest";
import { splitWithClause } from "../../src/db/with-clause";

describe("splitWithClause", () => {
  it("splits a WITH list from its final query", () => {
    expect(
      splitWithClause("with a as (select 1), b as (insert into t values ($1) returning *) select * from a, b"),
    ).toEqual({
      withList: "with a as (select 1), b as (insert into t values ($1) returning *)",
      finalQuery: "select * from a, b",
    });
  });

  it("takes a statement without WITH as all final query, without its trailing semicolon", () => {
    expect(splitWithClause("  select 1 as one;\n")).toEqual({ withList: undefined, finalQuery: "select 1 as one" });
    expect(splitWithClause("insert into t (a) select 1")).toEqual({
      withList: undefined,
      finalQuery: "insert into t (a) select 1",
    });
  });

  it("is not fooled by parentheses or keywords in strings, identifiers, dollar quotes and comments", () => {
    const withList = `WITH RECURSIVE "odd ) select" (n) AS MATERIALIZED (
      select ')select(' || E'\\') select' || $$ ) $$ || $tag$ ( select $tag$ -- ) select
      /* a ) select /* nested ) */ still ) a comment */
    ), update as (select 2)`;
    expect(splitWithClause(`${withList}\nSELECT $1::int, $2`)).toEqual({ withList, finalQuery: "SELECT $1::int, $2" });
  });

  it("knows a data-modifying final query", () => {
    expect(splitWithClause("with x as (select 1 as id) update t set a = 1 from x where t.id = x.id").finalQuery).toBe(
      "update t set a = 1 from x where t.id = x.id",
    );
  });

  it("refuses a WITH list without a final query", () => {
    expect(() => splitWithClause("with a as (select 1)")).toThrow(/no final query/);
  });
});
