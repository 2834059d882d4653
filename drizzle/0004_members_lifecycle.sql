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
