-- Invariants the database keeps on its own, whoever writes: the API, an operator in SQL, a script.

-- Every UPDATE bumps the row's version (the API's ETag; If-Match compares it).
CREATE FUNCTION "bump_version"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.version := OLD.version + 1;
  RETURN NEW;
END
$$;--> statement-breakpoint
CREATE TRIGGER "customers_bump_version" BEFORE UPDATE ON "customers" FOR EACH ROW EXECUTE FUNCTION "bump_version"();--> statement-breakpoint
CREATE TRIGGER "projects_bump_version" BEFORE UPDATE ON "projects" FOR EACH ROW EXECUTE FUNCTION "bump_version"();--> statement-breakpoint
CREATE TRIGGER "invoices_bump_version" BEFORE UPDATE ON "invoices" FOR EACH ROW EXECUTE FUNCTION "bump_version"();--> statement-breakpoint
CREATE TRIGGER "time_entries_bump_version" BEFORE UPDATE ON "time_entries" FOR EACH ROW EXECUTE FUNCTION "bump_version"();--> statement-breakpoint

-- organizations.prevent_overlaps: a live entry may not overlap another live entry
-- of the same user in the same organization. Ranges are half open, so entries
-- that only touch (one ends 13:00, the next starts 13:00) do not overlap; a
-- running entry reaches into the future. The advisory lock serialises writers
-- per user, and the check runs on a fresh snapshot after it, so two concurrent
-- writes cannot both pass. Raised as an exclusion violation (23P01) naming
-- time_entries_no_overlap, with the other entry's id as the detail.
CREATE FUNCTION "time_entries_prevent_overlap"() RETURNS trigger LANGUAGE plpgsql AS $$
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
  IF NOT EXISTS (SELECT 1 FROM organizations WHERE id = NEW.organization_id AND prevent_overlaps) THEN
    RETURN NEW;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended('time_entries_overlap:' || NEW.organization_id || ':' || NEW.user_id, 0));
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
$$;--> statement-breakpoint
CREATE TRIGGER "time_entries_prevent_overlap" BEFORE INSERT OR UPDATE ON "time_entries" FOR EACH ROW EXECUTE FUNCTION "time_entries_prevent_overlap"();
