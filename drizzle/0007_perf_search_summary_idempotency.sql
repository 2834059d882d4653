ALTER TABLE "idempotency_keys" ADD COLUMN "result" json;--> statement-breakpoint
CREATE INDEX "time_entries_description_trgm_idx" ON "time_entries" USING gin ("description" gin_trgm_ops) WITH (fastupdate=false) WHERE "time_entries"."deleted_at" is null;--> statement-breakpoint

-- The summary reads a year of an organization's entries: with these columns in the index, Postgres answers
-- it from the index alone (an index-only scan) instead of visiting ~100,000 table rows. Hand-written:
-- drizzle's index builder has no INCLUDE. The list keeps using time_entries_org_start_idx.
CREATE INDEX "time_entries_org_start_totals_idx" ON "time_entries" USING btree ("organization_id", "start_time")
  INCLUDE ("user_id", "project_id", "billable", "duration") WHERE "deleted_at" IS NULL;--> statement-breakpoint

-- Idempotency-Key in the request's own statement (src/middleware/idempotency.ts): the statement
-- calls idempotency_claim() first (a one-time filter), then does its work, and stores its result
-- rows under the key in the same statement, so the claim and the answer commit with the write or
-- not at all. Keys are taken by a transaction-level advisory lock, never by waiting on the row.

-- The advisory lock a request holds on its key while its statement runs.
CREATE FUNCTION "idempotency_lock_id"(org uuid, member uuid, idempotency_key text) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
  SELECT hashtextextended('idempotency_key:' || org || ':' || member || ':' || idempotency_key, 0)
$$;--> statement-breakpoint

-- True when the request may go ahead with the key; otherwise raises, which undoes the whole statement:
--   IK409  another request holds the key (in flight), or claimed it less than 60 s ago without an answer
--   IK422  the key was used with another request (method, path or body: `hash`)
--   IK200  the key has an answer; DETAIL holds it as JSON: {"rows": [...]} (the statement's result rows)
--          or {"status", "body", "location"} (a stored response)
-- A claim without an answer older than 60 s (a request that died, from before results were stored in
-- the statement) is taken over. VOLATILE: its SELECT takes a fresh snapshot, so it sees an answer
-- committed after the calling statement began.
CREATE FUNCTION "idempotency_claim"(org uuid, member uuid, idempotency_key text, hash text) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  stored idempotency_keys%ROWTYPE;
BEGIN
  IF NOT pg_try_advisory_xact_lock(idempotency_lock_id(org, member, idempotency_key)) THEN
    RAISE EXCEPTION 'Idempotency-Key in use' USING ERRCODE = 'IK409';
  END IF;
  SELECT * INTO stored FROM idempotency_keys k
  WHERE k.organization_id = org AND k.user_id = member AND k.key = idempotency_key
  FOR UPDATE;
  IF NOT FOUND THEN
    RETURN true;
  END IF;
  IF stored.request_hash <> hash THEN
    RAISE EXCEPTION 'Idempotency-Key used with another request' USING ERRCODE = 'IK422';
  END IF;
  IF stored.result IS NOT NULL THEN
    RAISE EXCEPTION 'Idempotency-Key answered' USING ERRCODE = 'IK200',
      DETAIL = json_build_object('rows', stored.result)::text;
  END IF;
  IF stored.response_status IS NOT NULL THEN
    RAISE EXCEPTION 'Idempotency-Key answered' USING ERRCODE = 'IK200',
      DETAIL = json_build_object('status', stored.response_status, 'body', stored.response_body,
        'location', stored.response_location)::text;
  END IF;
  IF stored.created_at > now() - interval '60 seconds' THEN
    RAISE EXCEPTION 'Idempotency-Key in use' USING ERRCODE = 'IK409';
  END IF;
  RETURN true;
END
$$;
