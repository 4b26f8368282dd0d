#pragma once
// Pure invoice rules: lines, totals and tax per rate computed once per rate with the frozen
// rounding, the invoice tax allocated back to its entries (common/tax), the qualified-invoice
// (適格請求書) check and invoice numbers. No I/O; Abseil and the tax library only.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/billing/billing.h"

namespace anken::billing {

// Fills invoice.lines' allocated_tax and invoice.totals from the lines (amount, category),
// with invoice.rounding: per rate the entries' allocated taxes sum exactly to the rate's tax
// (the remainder to the rate's last line). INVALID_ARGUMENT for no lines or an overflow.
absl::Status PriceInvoice(Invoice& invoice);

// The six items of a qualified invoice (インボイス制度): (1) issuer name and a valid
// registration number (T + 13 digits, check digit), (2) issue date, (3) transaction contents:
// every line has a description, (4) totals per rate, (5) tax per rate, (6) recipient name.
// FAILED_PRECONDITION (reason "QUALIFIED_INVOICE_ITEM_MISSING") naming the first missing item.
absl::Status CheckQualifiedInvoice(const Invoice& invoice);

// "2026-000042".
std::string FormatInvoiceNumber(int year, int64_t sequence);

}  // namespace anken::billing
