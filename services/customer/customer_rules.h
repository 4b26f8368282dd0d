#pragma once
// Pure rules of the customer service: normalisation and validation of what people type,
// Japanese number check digits, and billing-term due dates. No I/O; links Abseil only.

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/types/optional.h"
#include "common/jp/billing_terms.h"
#include "common/jp/registration_number.h"
#include "services/customer/customer.h"

namespace anken::customer {

// Half-width katakana (incl. ﾞ/ﾟ combinations such as ｶﾞ -> ガ, ﾊﾟ -> パ, ｳﾞ -> ヴ), half-width
// ｰ and the half-width punctuation ｡｢｣､･ become full width; full-width ASCII (U+FF01..U+FF5E:
// letters, digits and symbols such as ＠ and －) and the full-width space become half width;
// other characters, and bytes that are not valid UTF-8, are kept. Idempotent.
std::string NormalizeWidth(absl::string_view text);

// A key for matching typed searches against stored text regardless of kana width, ASCII
// width, letter case, hiragana/katakana, spaces and hyphens (NormalizeWidth, then hiragana ->
// katakana, lower-case, and spaces, hyphens and long-vowel-like dashes removed — but not ー).
std::string SearchKey(absl::string_view text);

// True when every character of `text` (after NormalizeWidth) is a full-width katakana,
// ー, a space (half or full width) or a middle dot ・.
bool IsKatakana(absl::string_view text);

// 郵便番号: "1000001", "100-0001" or full-width digits -> "100-0001"; nullopt otherwise.
absl::optional<std::string> NormalizePostalCode(absl::string_view text);

// True for the 47 prefectures written in full ("東京都", "北海道", "大阪府", "京都府", "…県").
bool IsPrefecture(absl::string_view text);

// 法人番号 / T-number check digits are shared: common/jp/registration_number.h.
using jp::IsValidCorporateNumber;
using jp::IsValidInvoiceRegistrationNumber;

// Phone: digits with optional hyphens, spaces, parentheses and one leading +; 6..20 digits.
bool IsValidPhone(absl::string_view text);
// A plausible e-mail address (local@domain.tld, no spaces, ≤ 254 chars).
bool IsValidEmail(absl::string_view text);
// Customer code: 1..20 of A-Z a-z 0-9 - _.
bool IsValidCustomerCode(absl::string_view text);

// Normalises a customer in place (kana width, postal code format, trims) and returns every
// problem found, each naming the API field under `prefix` (e.g. "customer"). Checks: name
// required (≤ 200 chars); kana katakana; postal code; prefecture; phone; e-mail; corporate
// number only for corporations and valid; registration number valid and, for a corporation
// with a corporate number, equal to "T" + it; billing terms ranges; at least one role;
// partner info required and valid when is_partner (rate 0..10000 bp, notification e-mail).
std::vector<FieldError> NormalizeAndValidate(Customer& customer, absl::string_view prefix);
std::vector<FieldError> NormalizeAndValidate(Contact& contact, absl::string_view prefix);
std::vector<FieldError> NormalizeAndValidate(Inquiry& inquiry, absl::string_view prefix);

// Due dates by billing terms are shared: common/jp/billing_terms.h.
using jp::ClosingDateFor;
using jp::DescribeTerms;
using jp::DueDateFor;

// Inquiry status rules: forward moves (skipping allowed), reopening RESOLVED or CLOSED to OPEN,
// and staying put are allowed; anything else (e.g. CLOSED -> IN_PROGRESS) is not.
bool IsAllowedInquiryTransition(InquiryStatus from, InquiryStatus to);

// The audit "what changed" of an update: a JSON object {"field": {"old": .., "new": ..}} over
// the fields that differ (API field names; version and stamps excluded). "{}" when none.
std::string ChangeJson(const Customer& before, const Customer& after);
std::string ChangeJson(const Contact& before, const Contact& after);
std::string ChangeJson(const Inquiry& before, const Inquiry& after);
// Enums are written by name (CORPORATION, LEAD, PHONE, IN_PROGRESS, ...), billing_terms as an
// object, partner fields as "partner.<name>". Inquiry responses are append-only: those added
// appear as "responses": {"new": [{id, responder, response_time, body}, ..]}.
// The audit record of a creation: every non-empty field as {"field": {"new": ..}}.
std::string CreationJson(const Customer& created);
std::string CreationJson(const Contact& created);
std::string CreationJson(const Inquiry& created);

}  // namespace anken::customer
