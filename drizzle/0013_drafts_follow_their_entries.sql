-- A draft's summary follows its entries and its projects' rates; only leaving draft freezes it. A PATCH that named
-- `"status": "draft"` beside another field (number, date, due_date) froze a draft's summary all the same, so that
-- entries attached or detached afterwards no longer showed in it. Those drafts follow their entries again.
UPDATE "invoices" SET "issued_summary" = NULL WHERE "status" = 'draft' AND "issued_summary" IS NOT NULL;
