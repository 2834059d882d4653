-- An inactive project is kept for its history, and takes no new time: a write that puts an entry on it (an insert, or
-- an update that moves the entry to it) or makes one of its entries run again (end_time cleared, or a row deleted in
-- SQL with its project kept brought back: the API's tombstones let go of their project) is refused, as a check
-- violation naming time_entries_project_active with the project's id as its detail. Entries already on it stay
-- editable otherwise: stopped, described, invoiced. A project deactivated while such a write runs may take that one
-- entry: the same as the write committing first.
CREATE FUNCTION "time_entries_project_active"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.project_id IS NULL OR NEW.deleted_at IS NOT NULL THEN
    RETURN NEW;
  END IF;
  IF TG_OP = 'UPDATE' AND OLD.project_id = NEW.project_id AND OLD.deleted_at IS NULL
    AND NOT (OLD.end_time IS NOT NULL AND NEW.end_time IS NULL) THEN
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
CREATE TRIGGER "time_entries_project_active" BEFORE INSERT OR UPDATE OF "project_id", "end_time", "deleted_at"
  ON "time_entries" FOR EACH ROW EXECUTE FUNCTION "time_entries_project_active"();
