DROP INDEX "customers_organization_id_name_idx";--> statement-breakpoint
DROP INDEX "projects_organization_id_name_idx";--> statement-breakpoint
CREATE INDEX "customers_organization_id_name_order_idx" ON "customers" USING btree ("organization_id",lower("name" collate "C"),("name" collate "C"),"id");--> statement-breakpoint
CREATE INDEX "projects_organization_id_name_order_idx" ON "projects" USING btree ("organization_id",lower("name" collate "C"),("name" collate "C"),"id");--> statement-breakpoint
-- A statement that finds, once it holds a row's lock, that the row changed after its snapshot (an invoice attached to
-- meanwhile: its other reads miss what that change did) aborts as a serialization failure. Rolled back whole, the
-- Idempotency-Key claim it carries included, it is sent again by the API as any 40001 is (src/db/query.ts), and reads
-- a fresh snapshot. A function: plain SQL cannot raise. Returns boolean only to sit in an expression.
CREATE FUNCTION "serialization_failure"(reason text) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  RAISE EXCEPTION '%', reason USING ERRCODE = 'serialization_failure';
END
$$;
