-- A draft invoice bills its customer for entries of that customer's projects (attach checks it), and its summary
-- follows the projects until it is issued: a project that changed customer while entries of it were on a draft
-- would have that draft bill one customer for another's work. So a project whose entries are on a draft invoice keeps
-- its customer until they are detached or the invoice leaves draft (its summary is then frozen). A row trigger, so
-- that its query runs after the project's row is locked and on a snapshot of its own: an attach that committed while
-- the update waited for that lock is seen (attach locks the entries' projects FOR SHARE, so the two cannot overlap).
-- DETAIL lists the drafts' ids, for the API's answer.
CREATE FUNCTION "projects_customer_fixed_while_on_draft"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  drafts text;
BEGIN
  SELECT string_agg(DISTINCT i.id::text, ',') INTO drafts
  FROM time_entries te
  JOIN invoices i ON i.organization_id = te.organization_id AND i.id = te.invoice_id
  WHERE te.organization_id = NEW.organization_id AND te.project_id = NEW.id AND i.status = 'draft';
  IF drafts IS NOT NULL THEN
    RAISE EXCEPTION 'project % has time entries on draft invoices %: its customer cannot change', NEW.id, drafts
      USING ERRCODE = 'check_violation', CONSTRAINT = 'projects_customer_fixed_while_on_draft', DETAIL = drafts;
  END IF;
  RETURN NEW;
END
$$;--> statement-breakpoint
CREATE TRIGGER "projects_customer_fixed_while_on_draft" BEFORE UPDATE OF "customer_id" ON "projects"
  FOR EACH ROW WHEN (OLD."customer_id" IS DISTINCT FROM NEW."customer_id")
  EXECUTE FUNCTION "projects_customer_fixed_while_on_draft"();
