-- A secret replaced by a rotation signs beside the new one for 24 hours and is of no use after: the hourly
-- housekeeping clears it then (src/housekeeping.ts), so the database no longer keeps secrets that a receiver slow to
-- switch may still accept. The API shows neither column, so clearing them is no change of the subscription: its
-- version (the ETag) moves only when another column does (so an UPDATE that changes no column moves it no more).
DROP TRIGGER "webhook_subscriptions_bump_version" ON "webhook_subscriptions";--> statement-breakpoint
CREATE TRIGGER "webhook_subscriptions_bump_version" BEFORE UPDATE ON "webhook_subscriptions" FOR EACH ROW
  WHEN ((to_jsonb(OLD) - 'previous_secret' - 'previous_secret_expires_at')
    IS DISTINCT FROM (to_jsonb(NEW) - 'previous_secret' - 'previous_secret_expires_at'))
  EXECUTE FUNCTION "bump_version"();--> statement-breakpoint
UPDATE "webhook_subscriptions" SET "previous_secret" = NULL, "previous_secret_expires_at" = NULL
  WHERE "previous_secret_expires_at" <= now();
