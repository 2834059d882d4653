-- users_email_lower_idx makes an address unique in any case; the exact-case constraint from 0000 added nothing but a
-- second rule that an insert racing another of the same address could break, past `on conflict ((lower(email)))`: a 500.
ALTER TABLE "users" DROP CONSTRAINT "users_email_unique";