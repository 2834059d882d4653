ALTER TABLE "time_entries" ADD COLUMN "change_xid" "xid8" DEFAULT pg_current_xact_id() NOT NULL;--> statement-breakpoint
CREATE INDEX "time_entries_org_change_idx" ON "time_entries" USING btree ("organization_id","change_xid","id");--> statement-breakpoint
CREATE INDEX "time_entries_org_user_change_idx" ON "time_entries" USING btree ("organization_id","user_id","change_xid","id");--> statement-breakpoint
-- The sync feed's order: the transaction that last wrote each entry, whoever writes it (the API, a trigger of another
-- table, SQL by hand). Existing rows took this migration's transaction id from the column's default above.
CREATE FUNCTION "time_entries_mark_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.change_xid := pg_current_xact_id();
  RETURN NEW;
END $$;--> statement-breakpoint
CREATE TRIGGER "time_entries_mark_change" BEFORE INSERT OR UPDATE ON "time_entries" FOR EACH ROW EXECUTE FUNCTION "time_entries_mark_change"();
