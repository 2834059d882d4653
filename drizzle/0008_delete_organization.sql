-- An organization keeps at least one active owner while it exists. Deleting the organization itself, with all its
-- rows in the same statement, takes its owners with it: the check runs after the statement, so it sees the
-- organization gone and has nothing left to keep. Otherwise as in 0004_members_lifecycle.sql.
CREATE OR REPLACE FUNCTION "organization_members_keep_an_owner"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.role = 'owner' AND OLD.status = 'active'
    AND (TG_OP = 'DELETE' OR NEW.role <> 'owner' OR NEW.status <> 'active')
    AND EXISTS (SELECT 1 FROM organizations WHERE id = OLD.organization_id) THEN
    PERFORM pg_advisory_xact_lock(hashtextextended('organization_owners:' || OLD.organization_id, 0));
    IF NOT EXISTS (
      SELECT 1 FROM organization_members
      WHERE organization_id = OLD.organization_id AND role = 'owner' AND status = 'active'
    ) THEN
      RAISE EXCEPTION 'organization % would have no active owner', OLD.organization_id
        USING ERRCODE = 'check_violation', CONSTRAINT = 'organization_members_last_owner';
    END IF;
  END IF;
  RETURN NULL;
END
$$;--> statement-breakpoint

-- Deletes organizations and every row that belongs to them, in one statement (foreign keys are checked at its end,
-- so the order of the deletes does not matter); returns the ids deleted. For operators (a tenant's erasure) and the
-- bench; the API has no route for it. Users stay: they are people, who may belong to other organizations.
-- A table that gains an organization_id must be added here, or its foreign key refuses the deletion.
CREATE FUNCTION "delete_organizations"(ids uuid[]) RETURNS SETOF uuid LANGUAGE sql AS $$
  WITH
    deliveries AS (DELETE FROM webhook_deliveries WHERE organization_id = ANY(ids)),
    events AS (DELETE FROM webhook_events WHERE organization_id = ANY(ids)),
    subscriptions AS (DELETE FROM webhook_subscriptions WHERE organization_id = ANY(ids)),
    keys AS (DELETE FROM idempotency_keys WHERE organization_id = ANY(ids)),
    entries AS (DELETE FROM time_entries WHERE organization_id = ANY(ids)),
    invoices AS (DELETE FROM invoices WHERE organization_id = ANY(ids)),
    projects AS (DELETE FROM projects WHERE organization_id = ANY(ids)),
    customers AS (DELETE FROM customers WHERE organization_id = ANY(ids)),
    members AS (DELETE FROM organization_members WHERE organization_id = ANY(ids))
  DELETE FROM organizations WHERE id = ANY(ids) RETURNING id
$$;
