-- The drafts that bill a project's hours, read in a snapshot of their own (VOLATILE: taken when called, not when the
-- calling statement began). A rate change calls it once it holds the project's lock, after which no attach of the
-- project's entries can commit: a draft it returns that the statement did not lock (created, or given the project's
-- hours, while the statement waited) means the statement's own view is stale, and it runs again.
CREATE FUNCTION "drafts_billing_project"(org uuid, project uuid) RETURNS uuid[] LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  RETURN ARRAY(
    SELECT i.id FROM invoices i
    WHERE i.organization_id = org AND i.status = 'draft'
      AND EXISTS (
        SELECT 1 FROM time_entries te
        WHERE te.organization_id = org AND te.invoice_id = i.id AND te.project_id = project AND te.billable
      )
  );
END
$$;
