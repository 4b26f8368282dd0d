-- The issuer's address and bank account as printed on the invoice, frozen at issue like
-- issuer_name and issuer_registration_number: re-printing an old invoice after the company
-- moved or changed bank must show what the customer was sent.
--
-- NULL: the invoice was issued before this migration, when only the configuration
-- (ANKEN_ISSUER_ADDRESS / ANKEN_ISSUER_BANK_ACCOUNT) held them; its PDF falls back to the
-- configuration. Invoices issued from now on always store a value ('' when none was
-- configured, so that a later configuration is not printed on them either).
ALTER TABLE invoices
  ADD COLUMN issuer_address text,
  ADD COLUMN issuer_bank_account text;
