#pragma once
// Domain types of the customer service (顧客台帳, 担当者台帳, 問合せ). Plain structs: no
// protobuf, no pqxx. Times are UTC instants; ids are assigned by the store.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/clock/stamp.h"
#include "absl/types/optional.h"
#include "common/jp/billing_terms.h"

namespace anken::customer {

enum class Kind { kCorporation = 1, kSoleProprietor = 2, kIndividual = 3 };
enum class Lifecycle { kLead = 1, kActive = 2, kInactive = 3 };

// 締め日 / 支払日 (common/jp/billing_terms.h); 0 means month end for both days.
using BillingTerms = jp::BillingTerms;

struct PartnerInfo {
  int commission_rate_bp = 0;  // basis points, 0..10000
  std::string notification_email;
  std::string report_contact_name;
  std::string report_contact_email;
};

using Stamp = ::anken::Stamp;

struct Customer {
  int64_t id = 0;
  std::string code;
  std::string name;
  std::string name_kana;
  Kind kind = Kind::kCorporation;
  std::string postal_code;
  std::string prefecture;
  std::string address_line1;
  std::string address_line2;
  std::string phone;
  std::string email;
  std::string corporate_number;
  std::string invoice_registration_number;
  BillingTerms billing_terms;
  Lifecycle lifecycle = Lifecycle::kActive;
  bool is_customer = true;
  bool is_partner = false;
  PartnerInfo partner;  // meaningful when is_partner
  std::string memo;
  absl::optional<absl::Time> convert_time;
  int64_t version = 0;  // row version; the etag
  Stamp stamp;
};

struct Contact {
  int64_t id = 0;
  int64_t customer_id = 0;
  std::string name;
  std::string name_kana;
  std::string department;
  std::string title;
  std::string email;
  std::string phone;
  bool primary = false;
  int64_t version = 0;
  Stamp stamp;
};

enum class InquiryChannel { kPhone = 1, kMail = 2, kWeb = 3, kVisit = 4 };
enum class InquiryStatus { kOpen = 1, kInProgress = 2, kResolved = 3, kClosed = 4 };

struct InquiryResponse {
  int64_t id = 0;
  std::string responder;
  absl::Time response_time;
  std::string body;
};

struct Inquiry {
  int64_t id = 0;
  int64_t customer_id = 0;
  int64_t contact_id = 0;  // 0 = none
  InquiryChannel channel = InquiryChannel::kPhone;
  std::string subject;
  std::string body;
  InquiryStatus status = InquiryStatus::kOpen;
  std::string assignee;
  std::vector<InquiryResponse> responses;  // oldest first
  int64_t version = 0;
  Stamp stamp;
};

// A problem with one field, named by its API path (e.g. "customer.postal_code"); handlers
// turn a list of them into INVALID_ARGUMENT with BadRequest field violations.
struct FieldError {
  std::string field;
  std::string description;
  std::string reason;  // stable, e.g. "INVALID_POSTAL_CODE"
};

}  // namespace anken::customer
