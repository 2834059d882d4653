-- A key's answer is replayed to a caller as they are now: IK200's DETAIL also carries the caller's current role in
-- the organization ("role": null once they are removed), read in the claim's own fresh snapshot. A replay used to
-- hand back the stored rows with the role they held when the key was first used, so a member removed or demoted
-- since could get the answer again (a webhook's signing secret, say) for the 24 hours a key is kept; the
-- Idempotency-Key middleware now refuses a caller who is no longer a member and gives the handler the lesser of the
-- two roles. Otherwise as in 0007_perf_search_summary_idempotency.sql.
CREATE OR REPLACE FUNCTION "idempotency_claim"(org uuid, member uuid, idempotency_key text, hash text) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  stored idempotency_keys%ROWTYPE;
  caller_role text;
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
