-- The contract after 0024's expand: `users.full_name` and `avatar_url` have not been read or written since 0024 (a
-- person's name and avatar are their membership's in each organization). Dropped, so that a Worker older than 0024
-- left running against this schema fails loudly on what it writes there instead of writing names nobody reads.
--
-- A signing secret needs only to be something an HMAC can take: `whsec_` and base64 of one byte or more, as a Standard
-- Webhooks secret of another length written by hand is, not only the 32 bytes the API makes. 0029 asked for exactly
-- those (and now adds its check unvalidated, so that it cannot stop a migration this one makes pass).
ALTER TABLE "webhook_subscriptions" DROP CONSTRAINT "webhook_subscriptions_secret_format_check";--> statement-breakpoint
ALTER TABLE "users" DROP COLUMN "full_name";--> statement-breakpoint
ALTER TABLE "users" DROP COLUMN "avatar_url";--> statement-breakpoint
ALTER TABLE "webhook_subscriptions" ADD CONSTRAINT "webhook_subscriptions_secret_format_check" CHECK ("webhook_subscriptions"."secret" ~ '^whsec_([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=?|[A-Za-z0-9+/]{2}(==)?)$' and ("webhook_subscriptions"."previous_secret" is null or "webhook_subscriptions"."previous_secret" ~ '^whsec_([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=?|[A-Za-z0-9+/]{2}(==)?)$'));