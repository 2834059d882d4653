CREATE TABLE "time_entry_departures" (
	"id" uuid NOT NULL,
	"organization_id" uuid NOT NULL,
	"version" integer NOT NULL,
	"left_at" timestamp (3) with time zone NOT NULL,
	"user_id" uuid NOT NULL,
	"project_id" uuid,
	"start_time" timestamp (3) with time zone NOT NULL,
	"description" text NOT NULL,
	"billable" boolean NOT NULL,
	"invoice_id" uuid,
	CONSTRAINT "time_entry_departures_id_version_pk" PRIMARY KEY("id","version")
);
--> statement-breakpoint
ALTER TABLE "time_entry_departures" ADD CONSTRAINT "time_entry_departures_id_time_entries_id_fk" FOREIGN KEY ("id") REFERENCES "public"."time_entries"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "time_entry_departures_org_left_idx" ON "time_entry_departures" USING btree ("organization_id","left_at","id");--> statement-breakpoint
CREATE INDEX "time_entry_departures_org_user_left_idx" ON "time_entry_departures" USING btree ("organization_id","user_id","left_at","id");--> statement-breakpoint
CREATE INDEX "time_entry_departures_left_at_idx" ON "time_entry_departures" USING btree ("left_at");--> statement-breakpoint
-- A live entry's filterable fields before a change of any of them, or before its deletion, stamped with the entry's
-- version and updated_at after it: the sync feed (include_departures) reads its filters and the caller's visibility
-- against these to tell a feed that an entry no longer belongs to it (moved, edited out of its filters, or deleted,
-- where the feed shows no tombstone of it). Written here, in the changing statement, so no change can skip it.
-- end_time is no filter, so stopping a timer writes nothing. No foreign key to organizations: its check would
-- share-lock the organization's row on every such edit (lock bookkeeping on a hot row, and a deletion of the
-- organization waiting on every edit); the entry's own key, and delete_organizations, keep the rows to their
-- organization.
CREATE FUNCTION "time_entries_record_departure"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO time_entry_departures
    (id, organization_id, version, left_at, user_id, project_id, start_time, description, billable, invoice_id)
  VALUES (OLD.id, OLD.organization_id, NEW.version, NEW.updated_at, OLD.user_id, OLD.project_id, OLD.start_time,
    OLD.description, OLD.billable, OLD.invoice_id)
  ON CONFLICT (id, version) DO NOTHING;
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER "time_entries_record_departure" AFTER UPDATE ON "time_entries" FOR EACH ROW
  WHEN (OLD.deleted_at IS NULL AND (NEW.deleted_at IS NOT NULL
    OR (OLD.user_id, OLD.project_id, OLD.start_time, OLD.description, OLD.billable, OLD.invoice_id)
      IS DISTINCT FROM (NEW.user_id, NEW.project_id, NEW.start_time, NEW.description, NEW.billable, NEW.invoice_id)))
  EXECUTE FUNCTION "time_entries_record_departure"();
--> statement-breakpoint
-- An organization's departures go with it (0031's function, one line more).
CREATE OR REPLACE FUNCTION "delete_organizations"(ids uuid[]) RETURNS SETOF uuid LANGUAGE sql AS $$
  WITH
    deliveries AS (DELETE FROM webhook_deliveries WHERE organization_id = ANY(ids)),
    events AS (DELETE FROM webhook_events WHERE organization_id = ANY(ids)),
    subscriptions AS (DELETE FROM webhook_subscriptions WHERE organization_id = ANY(ids)),
    keys AS (DELETE FROM idempotency_keys WHERE organization_id = ANY(ids)),
    departures AS (DELETE FROM time_entry_departures WHERE organization_id = ANY(ids)),
    entries AS (DELETE FROM time_entries WHERE organization_id = ANY(ids)),
    invoices AS (DELETE FROM invoices WHERE organization_id = ANY(ids)),
    projects AS (DELETE FROM projects WHERE organization_id = ANY(ids)),
    customers AS (DELETE FROM customers WHERE organization_id = ANY(ids)),
    members AS (DELETE FROM organization_members WHERE organization_id = ANY(ids) RETURNING user_id),
    people AS (
      DELETE FROM users u WHERE u.id IN (SELECT user_id FROM members)
        AND NOT EXISTS (
          SELECT FROM organization_members m WHERE m.user_id = u.id AND m.organization_id <> ALL(ids)
        )
    )
  DELETE FROM organizations WHERE id = ANY(ids) RETURNING id
$$;
