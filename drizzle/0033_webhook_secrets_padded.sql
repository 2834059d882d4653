-- Standard Webhooks libraries read a secret's base64 strictly (`standardwebhooks` refuses `whsec_AAA`: "incorrect
-- padding"), so a secret written by hand without its padding, which 0030 let in, signed deliveries its receiver's
-- library could not load. Each is given its padding, the same key (every signature stays what it was), and the check
-- asks for it from now on. No change of the subscription either (the API never shows a secret again): its version
-- (the ETag) and updated_at stay, so the trigger that moves them is off for the UPDATE.
ALTER TABLE "webhook_subscriptions" DROP CONSTRAINT "webhook_subscriptions_secret_format_check";--> statement-breakpoint
ALTER TABLE "webhook_subscriptions" DISABLE TRIGGER "webhook_subscriptions_bump_version";--> statement-breakpoint
UPDATE "webhook_subscriptions"
SET "secret" = "secret" || repeat('=', (4 - (length("secret") - 6) % 4) % 4),
  "previous_secret" = "previous_secret" || repeat('=', (4 - (length("previous_secret") - 6) % 4) % 4)
WHERE (length("secret") - 6) % 4 <> 0 OR (length("previous_secret") - 6) % 4 <> 0;--> statement-breakpoint
ALTER TABLE "webhook_subscriptions" ENABLE TRIGGER "webhook_subscriptions_bump_version";--> statement-breakpoint
ALTER TABLE "webhook_subscriptions" ADD CONSTRAINT "webhook_subscriptions_secret_format_check" CHECK ("webhook_subscriptions"."secret" ~ '^whsec_([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)$' and ("webhook_subscriptions"."previous_secret" is null or "webhook_subscriptions"."previous_secret" ~ '^whsec_([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)$'));
