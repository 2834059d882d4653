-- A subscription a delivery found with a URL the rules refuse (written in SQL, or refused by a newer rule) was
-- disabled, but setting it active again took it back as healthy, and its next event was lost to the same refusal. The
-- refused URL is kept until the subscription is given a URL (which the API checks), and re-enabling without one is 400.
-- Subscriptions disabled so before this migration are not marked (which URL was refused, and whether it changed since,
-- is not recorded): re-enabled on such a URL, the next event disables them again as before, now with the mark.
ALTER TABLE "webhook_subscriptions" ADD COLUMN "refused_url" text;--> statement-breakpoint
ALTER TABLE "webhook_subscriptions" ADD CONSTRAINT "webhook_subscriptions_refused_url_check" CHECK ("webhook_subscriptions"."refused_url" is null or not "webhook_subscriptions"."active");