-- A row's version (its ETag) and its updated_at move together, whoever writes: the API's statements set
-- updated_at themselves, but an operator's UPDATE in SQL (a raised webhook limit, a corrected entry) moved only the
-- version, so the organization answered a new version with an old updated_at, and an entry changed that way kept the
-- updated_at the sync feed (`updated_since`) reads, and never reached clients that sync. An UPDATE that sets
-- updated_at keeps what it set (a migration back-dating rows, a test fixture). Memberships have no updated_at: they
-- keep bump_version.
CREATE FUNCTION "bump_version_and_updated_at"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.version := OLD.version + 1;
  IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
    NEW.updated_at := now();
  END IF;
  RETURN NEW;
END
$$;--> statement-breakpoint
DROP TRIGGER "customers_bump_version" ON "customers";--> statement-breakpoint
CREATE TRIGGER "customers_bump_version" BEFORE UPDATE ON "customers" FOR EACH ROW EXECUTE FUNCTION "bump_version_and_updated_at"();--> statement-breakpoint
DROP TRIGGER "projects_bump_version" ON "projects";--> statement-breakpoint
CREATE TRIGGER "projects_bump_version" BEFORE UPDATE ON "projects" FOR EACH ROW EXECUTE FUNCTION "bump_version_and_updated_at"();--> statement-breakpoint
DROP TRIGGER "invoices_bump_version" ON "invoices";--> statement-breakpoint
CREATE TRIGGER "invoices_bump_version" BEFORE UPDATE ON "invoices" FOR EACH ROW EXECUTE FUNCTION "bump_version_and_updated_at"();--> statement-breakpoint
DROP TRIGGER "time_entries_bump_version" ON "time_entries";--> statement-breakpoint
CREATE TRIGGER "time_entries_bump_version" BEFORE UPDATE ON "time_entries" FOR EACH ROW EXECUTE FUNCTION "bump_version_and_updated_at"();--> statement-breakpoint
DROP TRIGGER "organizations_bump_version" ON "organizations";--> statement-breakpoint
CREATE TRIGGER "organizations_bump_version" BEFORE UPDATE ON "organizations" FOR EACH ROW EXECUTE FUNCTION "bump_version_and_updated_at"();--> statement-breakpoint
DROP TRIGGER "webhook_subscriptions_bump_version" ON "webhook_subscriptions";--> statement-breakpoint
CREATE TRIGGER "webhook_subscriptions_bump_version" BEFORE UPDATE ON "webhook_subscriptions" FOR EACH ROW
  WHEN ((to_jsonb(OLD) - 'previous_secret' - 'previous_secret_expires_at')
    IS DISTINCT FROM (to_jsonb(NEW) - 'previous_secret' - 'previous_secret_expires_at'))
  EXECUTE FUNCTION "bump_version_and_updated_at"();
