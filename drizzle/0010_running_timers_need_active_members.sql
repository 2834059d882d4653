-- A running timer belongs to an active member, whoever writes. Two halves, so that a timer started while its member
-- is being removed is either refused or stopped by the removal, never left running:
--
-- 1. A write that makes an entry run (an insert, or an update that clears end_time, restores it or moves it to
--    another user) locks its user's membership FOR SHARE and requires it active. A removal in progress holds the
--    row FOR UPDATE: the write waits for it, then reads the committed row (status 'removed') and is refused, as a
--    check violation naming time_entries_running_member_active. Offboarding's own stop sets end_time: not checked.
CREATE FUNCTION "time_entries_running_member_active"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  member_status text;
BEGIN
  IF NEW.end_time IS NOT NULL OR NEW.deleted_at IS NOT NULL THEN
    RETURN NEW;
  END IF;
  IF TG_OP = 'UPDATE' AND OLD.end_time IS NULL AND OLD.deleted_at IS NULL AND OLD.user_id = NEW.user_id THEN
    RETURN NEW;
  END IF;
  SELECT m.status INTO member_status FROM organization_members m
  WHERE m.organization_id = NEW.organization_id AND m.user_id = NEW.user_id
  FOR SHARE;
  -- No membership at all is the foreign key's to refuse (time_entries_member_fk).
  IF FOUND AND member_status <> 'active' THEN
    RAISE EXCEPTION 'user % is not an active member of organization %: no timer may run for them',
      NEW.user_id, NEW.organization_id
      USING ERRCODE = 'check_violation', CONSTRAINT = 'time_entries_running_member_active';
  END IF;
  RETURN NEW;
END
$$;--> statement-breakpoint
CREATE TRIGGER "time_entries_running_member_active" BEFORE INSERT OR UPDATE ON "time_entries"
  FOR EACH ROW EXECUTE FUNCTION "time_entries_running_member_active"();--> statement-breakpoint

-- 2. Offboarding stops the member's running timers in a statement of its own, with a fresh snapshot taken after the
--    removal locked the membership: a timer whose write held the lock first (and committed before the removal got
--    it) is visible to it and stopped, where the removing statement's own snapshot, older than that commit, would
--    miss it. Returns each stopped entry as it was and as it is (webhook events). Names the member in the
--    transaction-local setting time_entries.offboarding, so that the overlap trigger leaves the stop alone (see
--    0004_members_lifecycle.sql). ROWS 1: a member has one running timer at most, and the planner reads the
--    stopped entry's project, user and invoice by their indexes.
CREATE FUNCTION "offboarding_stop_timers"(org uuid, member uuid)
RETURNS TABLE ("before" time_entries, "after" time_entries) LANGUAGE sql VOLATILE ROWS 1 AS $$
  SELECT set_config('time_entries.offboarding', org || ':' || member, true);
  WITH running AS (
    SELECT te.* FROM time_entries te
    WHERE te.organization_id = org AND te.user_id = member AND te.end_time IS NULL AND te.deleted_at IS NULL
    FOR UPDATE
  ),
  stopped AS (
    UPDATE time_entries te SET end_time = greatest(now(), te.start_time + interval '1 second'), updated_at = now()
    FROM running r
    WHERE te.id = r.id AND te.end_time IS NULL AND te.deleted_at IS NULL
    RETURNING te.*
  )
  SELECT r::time_entries, s::time_entries FROM running r JOIN stopped s ON s.id = r.id
$$;
