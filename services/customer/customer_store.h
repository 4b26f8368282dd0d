#pragma once
// Storage of the customer service behind an interface: one Postgres implementation
// (pg_customer_store.h) and an in-memory fake for handler tests. Every method is one
// transaction; nothing throws.
//
// Writes carry a WriteContext (who, which RPC, request_id, when) and record an audit event in
// the same transaction. Creates are idempotent by request_id: the store keeps the response
// bytes made by `encode` and returns them again on a replay (so a replay answers exactly what
// the first call answered); the same request_id with another request is INVALID_ARGUMENT
// (REQUEST_ID_REUSED). Read-modify-write updates lock the row, hand it to `mutate` (which
// validates and may refuse with its own status, e.g. ABORTED for a stale etag), then save it
// with version + 1.
//
// Audit resource ids are hierarchical, so one customer's history includes its contacts and
// inquiries: "customers/12", "customers/12/contacts/5", "customers/12/inquiries/9".

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "common/db/write_context.h"
#include "services/customer/customer.h"

namespace anken::customer {

using db::WriteContext;
using db::AuditEntry;
using db::Encoder;
using db::Mutator;

struct CustomerFilter {
  absl::optional<bool> partner_role;  // true: is_partner; false: is_customer; nullopt: any
  std::vector<Lifecycle> lifecycles;  // any when empty
  std::string prefecture;             // any when empty
  absl::optional<absl::Time> updated_since;
  std::string query_key;              // SearchKey() of the search text; none when empty
};

struct InquiryFilter {
  int64_t customer_id = 0;  // any when 0
  std::vector<InquiryStatus> statuses;
  std::string assignee;
};

// One contact row of an import, attached to a customer by code (existing or in the same file).
struct ContactImport {
  std::string customer_code;
  Contact contact;
};

class CustomerStore {
 public:
  virtual ~CustomerStore() = default;

  // NOT_FOUND when absent.
  virtual absl::StatusOr<Customer> GetCustomer(int64_t id, absl::Time deadline) = 0;
  // Those of `ids` that exist, in any order.
  virtual absl::StatusOr<std::vector<Customer>> GetCustomers(const std::vector<int64_t>& ids,
                                                             absl::Time deadline) = 0;
  // Ascending id, ids > after_id, at most `limit`.
  virtual absl::StatusOr<std::vector<Customer>> ListCustomers(const CustomerFilter& filter,
                                                              int64_t after_id, int limit,
                                                              absl::Time deadline) = 0;
  // Assigns id, version 1, a code "C" + 6 digits from a sequence when empty (ALREADY_EXISTS
  // when a given code is taken), stamps. Returns the response bytes.
  virtual absl::StatusOr<std::string> CreateCustomer(const WriteContext& ctx, Customer customer,
                                                     const Encoder<Customer>& encode) = 0;
  // NOT_FOUND, or whatever `mutate` returns; `change_json` of the audit event is computed by
  // the store from the row before and after.
  virtual absl::StatusOr<Customer> UpdateCustomer(const WriteContext& ctx, int64_t id,
                                                  const Mutator<Customer>& mutate) = 0;

  // The customer must exist (NOT_FOUND). The first contact of a customer becomes primary; a
  // new primary takes the flag from the old one.
  virtual absl::StatusOr<std::string> CreateContact(const WriteContext& ctx, Contact contact,
                                                    const Encoder<Contact>& encode) = 0;
  // Unsetting the primary flag of the primary contact is FAILED_PRECONDITION; setting it
  // moves the flag.
  virtual absl::StatusOr<Contact> UpdateContact(const WriteContext& ctx, int64_t id,
                                                const Mutator<Contact>& mutate) = 0;
  // Primary first, then by id. NOT_FOUND when the customer does not exist.
  virtual absl::StatusOr<std::vector<Contact>> ListContacts(int64_t customer_id,
                                                            absl::Time deadline) = 0;

  // The customer must exist (NOT_FOUND); a contact_id must be one of its contacts
  // (INVALID_ARGUMENT on inquiry.contact_id).
  virtual absl::StatusOr<std::string> CreateInquiry(const WriteContext& ctx, Inquiry inquiry,
                                                    const Encoder<Inquiry>& encode) = 0;
  virtual absl::StatusOr<Inquiry> UpdateInquiry(const WriteContext& ctx, int64_t id,
                                                const Mutator<Inquiry>& mutate) = 0;
  // Appends a response (responder = ctx.actor, time = ctx.now). NOT_FOUND when absent.
  virtual absl::StatusOr<std::string> AddInquiryResponse(const WriteContext& ctx,
                                                         int64_t inquiry_id,
                                                         const std::string& body,
                                                         const Encoder<Inquiry>& encode) = 0;
  virtual absl::StatusOr<Inquiry> GetInquiry(int64_t id, absl::Time deadline) = 0;
  // Newest first (descending id), ids < before_id (0 = from the newest), at most `limit`,
  // each with its responses.
  virtual absl::StatusOr<std::vector<Inquiry>> ListInquiries(const InquiryFilter& filter,
                                                             int64_t before_id, int limit,
                                                             absl::Time deadline) = 0;

  // All or nothing: creates the customers, then the contacts (by customer code, existing or
  // new). A taken code is ALREADY_EXISTS naming it. Returns the response bytes.
  struct ImportResult {
    int customers_created = 0;
    int contacts_created = 0;
  };
  virtual absl::StatusOr<std::string> ImportCustomers(const WriteContext& ctx,
                                                      std::vector<Customer> customers,
                                                      std::vector<ContactImport> contacts,
                                                      const Encoder<ImportResult>& encode) = 0;
  // The stored response of an earlier, completed call with ctx's method and request_id
  // (nullopt when none); INVALID_ARGUMENT REQUEST_ID_REUSED when it was another request.
  virtual absl::StatusOr<absl::optional<std::string>> FindReplay(const WriteContext& ctx) = 0;
  // The customer's codes that already exist among `codes`.
  virtual absl::StatusOr<std::vector<std::string>> ExistingCodes(
      const std::vector<std::string>& codes, absl::Time deadline) = 0;

  // Newest first, ids < before_id (0 = from the newest), at most `limit`: the events of
  // "customers/<id>" and everything below it.
  virtual absl::StatusOr<std::vector<AuditEntry>> ListAuditEvents(int64_t customer_id,
                                                                  int64_t before_id, int limit,
                                                                  absl::Time deadline) = 0;
};

}  // namespace anken::customer
