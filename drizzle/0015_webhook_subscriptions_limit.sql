ALTER TABLE "organizations" ADD COLUMN "webhook_subscriptions_limit" integer DEFAULT 20 NOT NULL;--> statement-breakpoint
ALTER TABLE "organizations" ADD CONSTRAINT "organizations_webhook_subscriptions_limit_check" CHECK ("organizations"."webhook_subscriptions_limit" >= 0);--> statement-breakpoint
-- An organization keeps at most `webhook_subscriptions_limit` (20 unless an operator raises it) webhook
-- subscriptions, active or not: every change writes one delivery per subscription that takes it, in the statement
-- that makes the change, so their number bounds what a write costs (Stripe allows 16 endpoints, GitHub 20 hooks).
-- An organization that has more already keeps them, and adds none until it is under its limit. A BEFORE INSERT
-- trigger rather than a count in the creating statement: it locks the organization's row, then counts in a
-- statement of its own, on a snapshot taken after the lock, so two creations that race for the last place are
-- serialised and the second one sees the first. FOR NO KEY UPDATE does not conflict with the FOR KEY SHARE locks
-- of foreign keys: the organization's other writes go on meanwhile. DETAIL carries the limit, for the API's answer.
CREATE FUNCTION "webhook_subscriptions_per_organization_limit"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  max_subscriptions integer;
  subscriptions integer;
BEGIN
  SELECT o.webhook_subscriptions_limit INTO max_subscriptions FROM organizations o
  WHERE o.id = NEW.organization_id FOR NO KEY UPDATE;
  SELECT count(*) INTO subscriptions FROM webhook_subscriptions w WHERE w.organization_id = NEW.organization_id;
  IF subscriptions >= max_subscriptions THEN
    RAISE EXCEPTION 'organization % has % webhook subscriptions: % at most', NEW.organization_id, subscriptions,
      max_subscriptions
      USING ERRCODE = 'check_violation', CONSTRAINT = 'webhook_subscriptions_per_organization_limit',
        DETAIL = max_subscriptions::text;
  END IF;
  RETURN NEW;
END
$$;--> statement-breakpoint
CREATE TRIGGER "webhook_subscriptions_per_organization_limit" BEFORE INSERT ON "webhook_subscriptions"
  FOR EACH ROW EXECUTE FUNCTION "webhook_subscriptions_per_organization_limit"();
