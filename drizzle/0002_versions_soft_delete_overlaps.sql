DROP INDEX "time_entries_one_running_timer_idx";--> statement-breakpoint
DROP INDEX "time_entries_org_start_idx";--> statement-breakpoint
DROP INDEX "time_entries_org_user_start_idx";--> statement-breakpoint
DROP INDEX "time_entries_org_project_start_idx";--> statement-breakpoint
ALTER TABLE "customers" ADD COLUMN "version" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "invoices" ADD COLUMN "version" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "organizations" ADD COLUMN "prevent_overlaps" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "version" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "time_entries" ADD COLUMN "version" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "time_entries" ADD COLUMN "deleted_at" timestamp (3) with time zone;--> statement-breakpoint
CREATE INDEX "time_entries_org_updated_idx" ON "time_entries" USING btree ("organization_id","updated_at","id");--> statement-breakpoint
CREATE INDEX "time_entries_org_user_updated_idx" ON "time_entries" USING btree ("organization_id","user_id","updated_at","id");--> statement-breakpoint
CREATE INDEX "time_entries_deleted_at_idx" ON "time_entries" USING btree ("deleted_at") WHERE "time_entries"."deleted_at" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "time_entries_one_running_timer_idx" ON "time_entries" USING btree ("organization_id","user_id") WHERE "time_entries"."end_time" is null and "time_entries"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "time_entries_org_start_idx" ON "time_entries" USING btree ("organization_id","start_time","id") WHERE "time_entries"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "time_entries_org_user_start_idx" ON "time_entries" USING btree ("organization_id","user_id","start_time","id") WHERE "time_entries"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "time_entries_org_project_start_idx" ON "time_entries" USING btree ("organization_id","project_id","start_time","id") WHERE "time_entries"."deleted_at" is null;--> statement-breakpoint
ALTER TABLE "time_entries" ADD CONSTRAINT "time_entries_deleted_unlocked_check" CHECK ("time_entries"."deleted_at" is null or "time_entries"."invoice_id" is null);