-- A key that holds its answer is replayed without its lock: retries that come together after the first request
-- finished each read the answer, where the advisory lock let one of them through and refused the others as "in use"
-- (409) although nothing was running. The lock still guards a key without an answer: the first request, and a
-- takeover after 60 seconds. An answer, once stored, does not change (a 5xx is not stored, it releases the key).
CREATE OR REPLACE FUNCTION "idempotency_claim"(org uuid, member uuid, idempotency_key text, hash text) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  stored idempotency_keys%ROWTYPE;
  caller_role text;
  answered boolean := false;
BEGIN
  SELECT * INTO stored FROM idempotency_keys k
  WHERE k.organization_id = org AND k.user_id = member AND k.key = idempotency_key;
  answered := FOUND AND (stored.result IS NOT NULL OR stored.response_status IS NOT NULL);
  IF NOT answered THEN
    IF NOT pg_try_advisory_xact_lock(idempotency_lock_id(org, member, idempotency_key)) THEN
      RAISE EXCEPTION 'Idempotency-Key in use' USING ERRCODE = 'IK409';
    END IF;
    SELECT * INTO stored FROM idempotency_keys k
    WHERE k.organization_id = org AND k.user_id = member AND k.key = idempotency_key
    FOR UPDATE;
    IF NOT FOUND THEN
      RETURN true;
    END IF;
  END IF;
  IF stored.request_hash <> hash THEN
    RAISE EXCEPTION 'Idempotency-Key used with another request' USING ERRCODE = 'IK422';
  END IF;
  SELECT m.role INTO caller_role FROM organization_members m
  WHERE m.organization_id = org AND m.user_id = member AND m.status = 'active';
  IF stored.result IS NOT NULL THEN
    RAISE EXCEPTION 'Idempotency-Key answered' USING ERRCODE = 'IK200',
      DETAIL = json_build_object('rows', stored.result, 'role', caller_role)::text;
  END IF;
  IF stored.response_status IS NOT NULL THEN
    RAISE EXCEPTION 'Idempotency-Key answered' USING ERRCODE = 'IK200',
      DETAIL = json_build_object('status', stored.response_status, 'body', stored.response_body,
        'location', stored.response_location, 'role', caller_role)::text;
  END IF;
  IF stored.created_at > now() - interval '60 seconds' THEN
    RAISE EXCEPTION 'Idempotency-Key in use' USING ERRCODE = 'IK409';
  END IF;
  RETURN true;
END
$$;
