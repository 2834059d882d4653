-- Trigram matching for `q` (ILIKE '%word%'), used by the GIN index of the next migration.
-- A trusted extension since PostgreSQL 13: a database owner may create it; Neon and PGlite ship it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
