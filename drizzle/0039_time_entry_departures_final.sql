-- 0038 changed before it shipped: a database that applied its first draft (a development database of those days)
-- still has a foreign key to organizations and a trigger that records no deletion. Both brought to 0038's final
-- form; on any other database this changes nothing.
ALTER TABLE "time_entry_departures" DROP CONSTRAINT IF EXISTS "time_entry_departures_organization_id_organizations_id_fk";--> statement-breakpoint
DROP TRIGGER IF EXISTS "time_entries_record_departure" ON "time_entries";--> statement-breakpoint
CREATE TRIGGER "time_entries_record_departure" AFTER UPDATE ON "time_entries" FOR EACH ROW
  WHEN (OLD.deleted_at IS NULL AND (NEW.deleted_at IS NOT NULL
    OR (OLD.user_id, OLD.project_id, OLD.start_time, OLD.description, OLD.billable, OLD.invoice_id)
      IS DISTINCT FROM (NEW.user_id, NEW.project_id, NEW.start_time, NEW.description, NEW.billable, NEW.invoice_id)))
  EXECUTE FUNCTION "time_entries_record_departure"();
