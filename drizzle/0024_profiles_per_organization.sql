-- What an organization shows of a person (name, avatar, the address as it typed it) becomes its membership's: users
-- were global, so the first organization to add an address named the person for every other, and every later one saw
-- that name and avatar as soon as it typed the address. A user keeps only the address that identifies them:
-- `users.full_name` and `avatar_url` are no longer read or written, and stay until the next release drops them, so
-- that the previous release's Worker, which reads them, keeps working between this migration and its deploy (expand,
-- then contract).
ALTER TABLE "organization_members" ADD COLUMN "email" text;--> statement-breakpoint
ALTER TABLE "organization_members" ADD COLUMN "full_name" text;--> statement-breakpoint
ALTER TABLE "organization_members" ADD COLUMN "avatar_url" text;--> statement-breakpoint
-- Each membership starts with the profile every organization saw until now. Its version (the ETag) stays: what the
-- API shows of the member is unchanged.
ALTER TABLE "organization_members" DISABLE TRIGGER USER;--> statement-breakpoint
UPDATE "organization_members" m SET "email" = u."email", "full_name" = u."full_name", "avatar_url" = u."avatar_url"
  FROM "users" u WHERE u."id" = m."user_id";--> statement-breakpoint
ALTER TABLE "organization_members" ENABLE TRIGGER USER;--> statement-breakpoint
ALTER TABLE "organization_members" ALTER COLUMN "email" SET NOT NULL;--> statement-breakpoint
-- A membership made in SQL without an address gets the user's, as every membership had until now.
CREATE FUNCTION "organization_members_default_email"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.email IS NULL THEN
    SELECT u.email INTO NEW.email FROM users u WHERE u.id = NEW.user_id;
  END IF;
  RETURN NEW;
END
$$;--> statement-breakpoint
CREATE TRIGGER "organization_members_default_email" BEFORE INSERT ON "organization_members"
  FOR EACH ROW EXECUTE FUNCTION "organization_members_default_email"();
