-- What an invoice billed is frozen when it leaves draft: its `summary` (entry count, seconds, amounts per currency)
-- no longer follows a later change of a project's rate, currency or customer. Null while a draft.
ALTER TABLE "invoices" ADD COLUMN "issued_summary" json;--> statement-breakpoint
-- Invoices issued before this migration: frozen as they read now (the same computation as the API's).
UPDATE "invoices" i SET "issued_summary" = json_build_object(
  'entry_count', (SELECT count(*) FROM time_entries e WHERE e.organization_id = i.organization_id AND e.invoice_id = i.id),
  'total_seconds', (SELECT coalesce(sum(e.duration), 0) FROM time_entries e
    WHERE e.organization_id = i.organization_id AND e.invoice_id = i.id),
  'billable_seconds', (SELECT coalesce(sum(e.duration) FILTER (WHERE e.billable), 0) FROM time_entries e
    WHERE e.organization_id = i.organization_id AND e.invoice_id = i.id),
  'amounts', coalesce((
    SELECT json_agg(json_build_object('currency', a.currency, 'amount', a.amount::text) ORDER BY a.currency)
    FROM (
      SELECT p.currency, round(sum(e.duration * p.hourly_rate) / 3600, 2) AS amount
      FROM time_entries e JOIN projects p ON p.organization_id = e.organization_id AND p.id = e.project_id
      WHERE e.organization_id = i.organization_id AND e.invoice_id = i.id
        AND e.billable AND p.hourly_rate IS NOT NULL AND e.duration IS NOT NULL
      GROUP BY p.currency
    ) a
  ), '[]'::json)
)
WHERE i.status <> 'draft';--> statement-breakpoint
-- Voiding now releases an invoice's entries, unbilled; entries of invoices voided before are released too.
UPDATE "time_entries" e SET "invoice_id" = NULL, "updated_at" = now()
FROM "invoices" i
WHERE i.organization_id = e.organization_id AND i.id = e.invoice_id AND i.status = 'void';
