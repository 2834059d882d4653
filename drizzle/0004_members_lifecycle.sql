ALTER TABLE "organization_members" ADD COLUMN "status" text DEFAULT 'active' NOT NULL;--> statement-breakpoint
ALTER TABLE "organization_members" ADD COLUMN "removed_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "organization_members" ADD COLUMN "joined_at" timestamp (3) with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "organization_members" ADD COLUMN "version" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
-- Existing memberships are active and joined when they were created.
UPDATE "organization_members" SET "joined_at" = "created_at";--> statement-breakpoint
ALTER TABLE "organizations" ADD COLUMN "timezone" text DEFAULT 'UTC' NOT NULL;--> statement-breakpoint
ALTER TABLE "organizations" ADD COLUMN "version" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "users_email_lower_idx" ON "users" USING btree (lower("email"));--> statement-breakpoint
ALTER TABLE "organization_members" ADD CONSTRAINT "organization_members_status_check" CHECK ("organization_members"."status" in ('active', 'removed'));--> statement-breakpoint
ALTER TABLE "organization_members" ADD CONSTRAINT "organization_members_removed_at_check" CHECK (("organization_members"."status" = 'removed') = ("organization_members"."removed_at" is not null));;--> statement-breakpoint

CREATE TRIGGER "organization_members_bump_version" BEFORE UPDATE ON "organization_members" FOR EACH ROW EXECUTE FUNCTION "bump_version"();--> statement-breakpoint
CREATE TRIGGER "organizations_bump_version" BEFORE UPDATE ON "organizations" FOR EACH ROW EXECUTE FUNCTION "bump_version"();--> statement-breakpoint

-- An organization keeps at least one active owner, whoever writes. The advisory lock serialises the
-- writers that take an owner away, per organization, and the check runs on a fresh snapshot after it:
-- of two owners demoting each other at the same moment, the second sees the first's change and fails.
-- Raised as a check violation naming organization_members_last_owner (the API's 409 LAST_OWNER).
CREATE FUNCTION "organization_members_keep_an_owner"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.role = 'owner' AND OLD.status = 'active'
    AND (TG_OP = 'DELETE' OR NEW.role <> 'owner' OR NEW.status <> 'active') THEN
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
CREATE TRIGGER "organization_members_keep_an_owner" AFTER UPDATE OR DELETE ON "organization_members" FOR EACH ROW EXECUTE FUNCTION "organization_members_keep_an_owner"();
--> statement-breakpoint

-- Offboarding stops the removed member's running timer, and must never fail: a timer can overlap entries written
-- before prevent_overlaps was turned on. The statement that removes a member names them in the transaction-local
-- setting time_entries.offboarding ('<organization id>:<user id>'), and their entries are not checked in it.
-- Otherwise as in 0003_triggers.sql.
CREATE OR REPLACE FUNCTION "time_entries_prevent_overlap"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  other uuid;
BEGIN
  IF NEW.deleted_at IS NOT NULL THEN
    RETURN NEW;
  END IF;
  IF TG_OP = 'UPDATE' AND OLD.deleted_at IS NULL AND NEW.user_id = OLD.user_id
    AND NEW.start_time = OLD.start_time AND NEW.end_time IS NOT DISTINCT FROM OLD.end_time THEN
    RETURN NEW;
  END IF;
  IF current_setting('time_entries.offboarding', true) = NEW.organization_id || ':' || NEW.user_id THEN
    RETURN NEW;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM organizations WHERE id = NEW.organization_id AND prevent_overlaps) THEN
    RETURN NEW;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended('time_entries_overlap:' || NEW.organization_id || ':' || NEW.user_id, 0));
  SELECT te.id INTO other FROM time_entries te
  WHERE te.organization_id = NEW.organization_id AND te.user_id = NEW.user_id AND te.id <> NEW.id
    AND te.deleted_at IS NULL
    AND te.start_time < coalesce(NEW.end_time, 'infinity')
    AND (te.end_time IS NULL OR te.end_time > NEW.start_time)
  ORDER BY te.start_time
  LIMIT 1;
  IF other IS NOT NULL THEN
    RAISE EXCEPTION 'time entry overlaps entry %', other
      USING ERRCODE = 'exclusion_violation', CONSTRAINT = 'time_entries_no_overlap', DETAIL = other::text;
  END IF;
  RETURN NEW;
END
$$;
