-- An inactive project takes no new time (0021), but an entry already on it could be made longer: a PATCH of its
-- end_time or start_time took an hour to a thousand, billed on a project its owners had closed. Its entries may now
-- change their times only without growing: a stopped entry may be moved or shortened but not lengthened; a running
-- one may start later, not earlier, and may be stopped as long as it is no longer than the time it has run (a minute
-- more, for a client's clock ahead of ours; a second at least, as offboarding stops a timer that starts in the
-- future), so not at an end_time in the years ahead. Otherwise as in 0021.
CREATE OR REPLACE FUNCTION "time_entries_project_active"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.project_id IS NULL OR NEW.deleted_at IS NOT NULL THEN
    RETURN NEW;
  END IF;
  IF TG_OP = 'UPDATE' AND OLD.project_id = NEW.project_id AND OLD.deleted_at IS NULL
    AND (CASE
      WHEN OLD.end_time IS NOT NULL THEN
        NEW.end_time IS NOT NULL AND NEW.end_time - NEW.start_time <= OLD.end_time - OLD.start_time
      WHEN NEW.end_time IS NULL THEN NEW.start_time >= OLD.start_time
      ELSE NEW.end_time - NEW.start_time
        <= greatest(now() - OLD.start_time, interval '1 second') + interval '1 minute'
    END) THEN
    RETURN NEW;
  END IF;
  IF EXISTS (
    SELECT 1 FROM projects p
    WHERE p.organization_id = NEW.organization_id AND p.id = NEW.project_id AND NOT p.active
  ) THEN
    RAISE EXCEPTION 'project % is inactive: it takes no new time', NEW.project_id
      USING ERRCODE = 'check_violation', CONSTRAINT = 'time_entries_project_active', DETAIL = NEW.project_id::text;
  END IF;
  RETURN NEW;
END
$$;--> statement-breakpoint
DROP TRIGGER "time_entries_project_active" ON "time_entries";--> statement-breakpoint
CREATE TRIGGER "time_entries_project_active" BEFORE INSERT OR UPDATE OF "project_id", "start_time", "end_time", "deleted_at"
  ON "time_entries" FOR EACH ROW EXECUTE FUNCTION "time_entries_project_active"();
