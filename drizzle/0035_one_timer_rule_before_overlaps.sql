-- A timer started while another of the same user's timers was being started broke the one-timer rule, but with
-- prevent_overlaps on, the overlap trigger ran before the unique index and answered OVERLAP instead: the loser of
-- two starts got the wrong 409, and a start with stop_running, which run after the other would have stopped it, was
-- refused. The trigger now holds the one-timer rule first: a running entry that meets another running entry of its
-- user (committed after the writing statement's snapshot, which alone saw no timer) raises the unique index's own
-- error, so the API runs the statement again on a snapshot that sees the other timer, as without prevent_overlaps.
-- Otherwise as in 0004_members_lifecycle.sql.
CREATE OR REPLACE FUNCTION "time_entries_prevent_overlap"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  other uuid;
BEGIN
  IF NEW.deleted_at IS NOT NULL THEN
    RETURN NEW;
  END IF;
  IF TG_OP = 'UPDATE' AND OLD.deleted_at IS NULL AND NEW.user_id = OLD.user_id
    AND NEW.start_time = OLD.start_time AND NEW.end_time IS NOT DISTINCT FROM OLD.end_time THEN
    RETURN NEW;
  END IF;
  IF current_setting('time_entries.offboarding', true) = NEW.organization_id || ':' || NEW.user_id THEN
    RETURN NEW;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM organizations WHERE id = NEW.organization_id AND prevent_overlaps) THEN
    RETURN NEW;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended('time_entries_overlap:' || NEW.organization_id || ':' || NEW.user_id, 0));
  IF NEW.end_time IS NULL THEN
    SELECT te.id INTO other FROM time_entries te
    WHERE te.organization_id = NEW.organization_id AND te.user_id = NEW.user_id AND te.id <> NEW.id
      AND te.deleted_at IS NULL AND te.end_time IS NULL;
    IF other IS NOT NULL THEN
      RAISE EXCEPTION 'a timer is already running for this user: entry %', other
        USING ERRCODE = 'unique_violation', CONSTRAINT = 'time_entries_one_running_timer_idx', DETAIL = other::text;
    END IF;
  END IF;
  SELECT te.id INTO other FROM time_entries te
  WHERE te.organization_id = NEW.organization_id AND te.user_id = NEW.user_id AND te.id <> NEW.id
    AND te.deleted_at IS NULL
    AND te.start_time < coalesce(NEW.end_time, 'infinity')
    AND (te.end_time IS NULL OR te.end_time > NEW.start_time)
  ORDER BY te.start_time
  LIMIT 1;
  IF other IS NOT NULL THEN
    RAISE EXCEPTION 'time entry overlaps entry %', other
      USING ERRCODE = 'exclusion_violation', CONSTRAINT = 'time_entries_no_overlap', DETAIL = other::text;
  END IF;
  RETURN NEW;
END
$$;
