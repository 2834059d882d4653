-- ICU's legacy three-letter ids (ACT, ART, AST, BST, CST, IST, NST, PST) pass the runtime's Intl, which reads them as
-- zones (IST: Asia/Kolkata, +05:30), but Postgres' AT TIME ZONE reads them as its fixed-offset abbreviations (IST:
-- Israel's +02:00), so an organization that chose one had its days cut at another hour. They become the zones Intl
-- knew them as, the ones the API accepted them for (as 0012 did for CET, EET, MET and WET), and are refused.
UPDATE "organizations" SET "timezone" = CASE upper("timezone")
    WHEN 'ACT' THEN 'Australia/Darwin'
    WHEN 'ART' THEN 'Africa/Cairo'
    WHEN 'AST' THEN 'America/Anchorage'
    WHEN 'BST' THEN 'Asia/Dhaka'
    WHEN 'CST' THEN 'America/Chicago'
    WHEN 'IST' THEN 'Asia/Kolkata'
    WHEN 'NST' THEN 'Pacific/Auckland'
    WHEN 'PST' THEN 'America/Los_Angeles'
  END, "version" = "version" + 1, "updated_at" = now()
WHERE upper("timezone") IN ('ACT', 'ART', 'AST', 'BST', 'CST', 'IST', 'NST', 'PST');--> statement-breakpoint
ALTER TABLE "organizations" DROP CONSTRAINT "organizations_timezone_not_abbreviation_check";--> statement-breakpoint
ALTER TABLE "organizations" ADD CONSTRAINT "organizations_timezone_not_abbreviation_check" CHECK (upper("organizations"."timezone") not in ('CET', 'EET', 'MET', 'WET', 'ACT', 'ART', 'AST', 'BST', 'CST', 'IST', 'NST', 'PST'));