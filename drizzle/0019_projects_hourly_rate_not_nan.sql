-- numeric has NaN, and Postgres orders NaN above every number, so `hourly_rate >= 0` let one in (an operator's
-- `update projects set hourly_rate = 'NaN'`, an import that writes NaN for an empty cell). The API answered it as the
-- string "NaN" where its contract says a number (a project, an entry's project, their webhook events), and billed
-- "NaN" in amounts. A NaN rate is no rate: it becomes null (the bump_version trigger gives the project a new version),
-- and is refused.
UPDATE "projects" SET "hourly_rate" = NULL, "updated_at" = now() WHERE "hourly_rate" = 'NaN';--> statement-breakpoint
ALTER TABLE "projects" DROP CONSTRAINT "projects_hourly_rate_check";--> statement-breakpoint
ALTER TABLE "projects" ADD CONSTRAINT "projects_hourly_rate_check" CHECK ("projects"."hourly_rate" >= 0 and "projects"."hourly_rate" <> 'NaN');
