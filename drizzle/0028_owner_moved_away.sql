-- A membership moved to another organization by hand-written SQL (`SET organization_id = …`) takes its owner away
-- from the first one as surely as a removal does: the rule now counts that too. Otherwise as in
-- 0008_delete_organization.sql.
CREATE OR REPLACE FUNCTION "organization_members_keep_an_owner"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.role = 'owner' AND OLD.status = 'active'
    AND (TG_OP = 'DELETE' OR NEW.role <> 'owner' OR NEW.status <> 'active' OR NEW.organization_id <> OLD.organization_id)
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
$$;
