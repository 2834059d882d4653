-- CET, EET, MET and WET name zones with summer time for IANA (and the API's validation, through Intl), but
-- Postgres' AT TIME ZONE reads them as its fixed-offset abbreviations: an organization that chose one had its
-- days cut an hour off all summer. They become the zones IANA makes them links to (tzdata 2024b), and are refused.
UPDATE "organizations" SET "timezone" = CASE upper("timezone")
    WHEN 'CET' THEN 'Europe/Brussels'
    WHEN 'MET' THEN 'Europe/Brussels'
    WHEN 'EET' THEN 'Europe/Athens'
    WHEN 'WET' THEN 'Europe/Lisbon'
  END, "version" = "version" + 1, "updated_at" = now()
WHERE upper("timezone") IN ('CET', 'EET', 'MET', 'WET');--> statement-breakpoint
ALTER TABLE "organizations" ADD CONSTRAINT "organizations_timezone_not_abbreviation_check" CHECK (upper("organizations"."timezone") not in ('CET', 'EET', 'MET', 'WET'));
