-- A tenant's erasure takes the people who belonged to it and to no other organization: a user is an id and the address
-- their identity provider knows, personal data with nothing left to serve. Those who belong to another organization
-- (as an active or a removed member) stay. Otherwise as in 0008_delete_organization.sql; the snapshot the statement
-- reads does not see its own deletes, hence the memberships elsewhere are those outside `ids`.
CREATE OR REPLACE FUNCTION "delete_organizations"(ids uuid[]) RETURNS SETOF uuid LANGUAGE sql AS $$
  WITH
    deliveries AS (DELETE FROM webhook_deliveries WHERE organization_id = ANY(ids)),
    events AS (DELETE FROM webhook_events WHERE organization_id = ANY(ids)),
    subscriptions AS (DELETE FROM webhook_subscriptions WHERE organization_id = ANY(ids)),
    keys AS (DELETE FROM idempotency_keys WHERE organization_id = ANY(ids)),
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
