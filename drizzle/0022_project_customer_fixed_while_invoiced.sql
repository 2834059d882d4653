-- An issued invoice (sent, overdue or paid) billed its customer for the entries on it, and keeps them: a project that
-- changed customer afterwards would show those entries, in lists, their customer_id filter and the export, as work for
-- another customer than the one billed. So a project whose entries are on an issued invoice keeps its customer for
-- good (a void invoice has released its entries); entries still to bill go to a new project of the other customer.
-- Checked before the drafts of drizzle/0016, whose remedy (detach, or issue) would not help then. DETAIL lists the
-- invoices' ids, for the API's answer. The function keeps its name (and its trigger, whose WHEN lets an update that
-- leaves customer_id as it is through): it now guards both rules.
CREATE OR REPLACE FUNCTION "projects_customer_fixed_while_on_draft"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  issued text;
  drafts text;
BEGIN
  SELECT string_agg(DISTINCT i.id::text, ',') FILTER (WHERE i.status NOT IN ('draft', 'void')),
    string_agg(DISTINCT i.id::text, ',') FILTER (WHERE i.status = 'draft')
  INTO issued, drafts
  FROM time_entries te
  JOIN invoices i ON i.organization_id = te.organization_id AND i.id = te.invoice_id
  WHERE te.organization_id = NEW.organization_id AND te.project_id = NEW.id;
  IF issued IS NOT NULL THEN
    RAISE EXCEPTION 'project % has time entries on issued invoices %: its customer cannot change', NEW.id, issued
      USING ERRCODE = 'check_violation', CONSTRAINT = 'projects_customer_fixed_while_invoiced', DETAIL = issued;
  END IF;
  IF drafts IS NOT NULL THEN
    RAISE EXCEPTION 'project % has time entries on draft invoices %: its customer cannot change', NEW.id, drafts
      USING ERRCODE = 'check_violation', CONSTRAINT = 'projects_customer_fixed_while_on_draft', DETAIL = drafts;
  END IF;
  RETURN NEW;
END
$$;
